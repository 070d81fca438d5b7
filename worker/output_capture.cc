#include "worker/output_capture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace avctl {

namespace {

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// One stream: its pipe's read end and its log file, made when the first
// bytes arrive (a silent program costs no files: most of a job's cost on a
// busy worker is creating them).
struct Stream {
  int fd = -1;
  const std::string* path = nullptr;
  std::FILE* file = nullptr;
  int64_t kept = 0;
  bool noted = false;  // the "dropped" note is written

  std::FILE* File() {
    if (file == nullptr && path != nullptr) {
      const size_t slash = path->rfind('/');
      if (slash != std::string::npos && slash > 0) ::mkdir(path->substr(0, slash).c_str(), 0755);  // its logs folder
      file = std::fopen(path->c_str(), "we");
      path = nullptr;  // one try
    }
    return file;
  }
};

}  // namespace

OutputCapture::OutputCapture(std::string stdout_path, std::string stderr_path, CaptureLimits limits)
    : stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)), limits_(limits) {}

Result<std::unique_ptr<OutputCapture>> OutputCapture::Open(std::string stdout_path, std::string stderr_path,
                                                           CaptureLimits limits) {
  std::unique_ptr<OutputCapture> c(new OutputCapture(std::move(stdout_path), std::move(stderr_path), limits));
  int p[2];
  for (auto [r, w] : {std::pair{&c->out_read_, &c->out_write_}, std::pair{&c->err_read_, &c->err_write_},
                      std::pair{&c->wake_read_, &c->wake_write_}}) {
    if (::pipe2(p, O_CLOEXEC) != 0) return Status::FromErrno("cannot make a pipe for a job's output", errno);
    *r = p[0];
    *w = p[1];
  }
  // The read ends are non-blocking: the thread polls them.
  for (int fd : {c->out_read_, c->err_read_, c->wake_read_}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return c;
}

OutputCapture::~OutputCapture() {
  Stop();
  for (int* fd : {&out_read_, &out_write_, &err_read_, &err_write_, &wake_read_, &wake_write_}) CloseFd(fd);
}

Status OutputCapture::Start() {
  CloseFd(&out_write_);
  CloseFd(&err_write_);
  thread_ = std::thread([this] { Drain(); });
  return Status::OK();
}

void OutputCapture::Stop() {
  if (!thread_.joinable()) return;
  if (wake_write_ >= 0) {
    const char c = 'x';
    ssize_t w = ::write(wake_write_, &c, 1);
    (void)w;
  }
  thread_.join();
}

std::string OutputCapture::StderrTail() const {
  std::lock_guard<std::mutex> lock(tail_mu_);
  std::string s = tail_;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

void OutputCapture::Drain() {
  Stream streams[2];
  streams[0].fd = out_read_;
  streams[1].fd = err_read_;
  streams[0].path = &stdout_path_;
  streams[1].path = &stderr_path_;
  char buf[65536];
  int open_streams = 2;
  while (open_streams > 0) {
    pollfd fds[3] = {{streams[0].fd, POLLIN, 0}, {streams[1].fd, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents != 0) break;  // Stop()
    for (int i = 0; i < 2; ++i) {
      Stream& s = streams[i];
      if (s.fd < 0 || fds[i].revents == 0) continue;
      while (true) {
        const ssize_t n = ::read(s.fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;  // EAGAIN: drained for now
        if (n == 0) {      // every writer closed it
          s.fd = -1;
          --open_streams;
          break;
        }
        const int64_t room = std::max<int64_t>(0, limits_.max_bytes - s.kept);
        const int64_t keep = std::min<int64_t>(room, n);
        if (keep > 0 && s.File() != nullptr) std::fwrite(buf, 1, static_cast<size_t>(keep), s.file);
        s.kept += keep;
        if (keep < n) {
          dropped_ += n - keep;
          if (!s.noted && s.File() != nullptr) {
            std::fprintf(s.file, "\n[avctl: output beyond %lld bytes is not kept]\n",
                         static_cast<long long>(limits_.max_bytes));
            s.noted = true;
          }
        }
        if (i == 1) {
          std::lock_guard<std::mutex> lock(tail_mu_);
          tail_.append(buf, static_cast<size_t>(n));
          if (tail_.size() > limits_.tail_bytes) tail_.erase(0, tail_.size() - limits_.tail_bytes);
        }
      }
    }
  }
  for (Stream& s : streams) {
    if (s.file != nullptr) std::fclose(s.file);
  }
  done_ = open_streams == 0;
}

}  // namespace avctl
