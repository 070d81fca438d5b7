#include "worker/output_capture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace avctl {

namespace {

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

}  // namespace

std::FILE* OutputCapture::Stream::File() {
  if (file == nullptr && !path.empty()) {
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) ::mkdir(path.substr(0, slash).c_str(), 0755);  // its logs folder
    file = std::fopen(path.c_str(), "we");
    path.clear();  // one try
  }
  return file;
}

Result<std::unique_ptr<OutputCapture>> OutputCapture::Open(std::string stdout_path, std::string stderr_path,
                                                           CaptureLimits limits) {
  std::unique_ptr<OutputCapture> c(new OutputCapture(limits));
  c->streams_[0].path = std::move(stdout_path);
  c->streams_[1].path = std::move(stderr_path);
  for (Stream& s : c->streams_) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Status::FromErrno("cannot make a pipe for a job's output", errno);
    s.read_fd = p[0];
    s.write_fd = p[1];
    ::fcntl(s.read_fd, F_SETFL, ::fcntl(s.read_fd, F_GETFL) | O_NONBLOCK);  // Pump never blocks
  }
  return c;
}

OutputCapture::~OutputCapture() {
  Stop();
  for (Stream& s : streams_) CloseFd(&s.write_fd);
}

void OutputCapture::Start() {
  for (Stream& s : streams_) CloseFd(&s.write_fd);
}

std::vector<int> OutputCapture::Fds() const {
  std::vector<int> fds;
  for (const Stream& s : streams_) {
    if (s.read_fd >= 0) fds.push_back(s.read_fd);
  }
  return fds;
}

void OutputCapture::Keep(Stream& s, const char* data, size_t n, bool is_stderr) {
  const int64_t room = std::max<int64_t>(0, limits_.max_bytes - s.kept);
  const int64_t keep = std::min<int64_t>(room, static_cast<int64_t>(n));
  if (keep > 0 && s.File() != nullptr) std::fwrite(data, 1, static_cast<size_t>(keep), s.file);
  s.kept += keep;
  if (keep < static_cast<int64_t>(n)) {
    dropped_ += static_cast<int64_t>(n) - keep;
    if (!s.noted && s.File() != nullptr) {
      std::fprintf(s.file, "\n[avctl: output beyond %lld bytes is not kept]\n", static_cast<long long>(limits_.max_bytes));
      s.noted = true;
    }
  }
  if (is_stderr) {
    tail_.append(data, n);
    if (tail_.size() > limits_.tail_bytes) tail_.erase(0, tail_.size() - limits_.tail_bytes);
  }
}

void OutputCapture::Pump(size_t budget) {
  char buf[65536];
  for (int i = 0; i < 2; ++i) {  // half each: a flood on one stream does not starve the other
    Stream& s = streams_[i];
    size_t read_so_far = 0;
    const size_t share = std::max<size_t>(1, budget / 2);
    while (s.read_fd >= 0 && read_so_far < share) {
      const ssize_t n = ::read(s.read_fd, buf, std::min(sizeof(buf), share - read_so_far));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;  // EAGAIN: drained for now
      if (n == 0) {      // every writer closed it
        CloseFd(&s.read_fd);
        if (s.file != nullptr) std::fclose(s.file);
        s.file = nullptr;
        break;
      }
      read_so_far += static_cast<size_t>(n);
      Keep(s, buf, static_cast<size_t>(n), i == 1);
    }
  }
}

void OutputCapture::Stop() {
  for (Stream& s : streams_) {
    CloseFd(&s.read_fd);
    if (s.file != nullptr) std::fclose(s.file);
    s.file = nullptr;
  }
}

std::string OutputCapture::StderrTail() const {
  std::string s = tail_;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace avctl
