#include "worker/checkpoint_file.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "common/checksum.h"
#include "common/file_util.h"

namespace avctl {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[] = "AVCKPT01";
constexpr char kEndMagic[] = "AVCKEND1";
constexpr size_t kMagicBytes = 8;

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
  out->append(b, sizeof(T));
}

class Reader {
 public:
  Reader(const std::string& data, size_t end) : data_(data), end_(end) {}
  template <typename T>
  bool Get(T* v) {
    if (end_ - pos_ < sizeof(T)) return false;
    std::memcpy(v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Bytes(uint64_t n, std::string* out) {
    if (end_ - pos_ < n) return false;
    out->assign(data_, pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == end_; }

 private:
  const std::string& data_;
  size_t end_;
  size_t pos_ = kMagicBytes;
};

}  // namespace

std::string CheckpointFileName(CheckpointPosition at) {
  return at.batches > 0 ? fmt::format("epoch-{:04d}-batch-{:04d}.ckpt", at.epochs, at.batches)
                        : fmt::format("epoch-{:04d}.ckpt", at.epochs);
}

std::optional<CheckpointPosition> ParseCheckpointFileName(const std::string& name) {
  CheckpointPosition at;
  if (std::sscanf(name.c_str(), "epoch-%d-batch-%d.ckpt", &at.epochs, &at.batches) != 2 &&
      std::sscanf(name.c_str(), "epoch-%d.ckpt", &at.epochs) != 1) {
    return std::nullopt;
  }
  if (at.epochs < 0 || at.batches < 0 || name != CheckpointFileName(at)) return std::nullopt;
  return at;
}

Status WriteCheckpoint(const std::string& path, const Checkpoint& c) {
  std::string out(kMagic, kMagicBytes);
  const std::string header = c.header.dump();
  Put<uint64_t>(&out, header.size());
  out += header;
  Put<uint32_t>(&out, static_cast<uint32_t>(c.sections.size()));
  for (const auto& [name, bytes] : c.sections) {
    Put<uint32_t>(&out, static_cast<uint32_t>(name.size()));
    out += name;
    Put<uint64_t>(&out, bytes.size());
    out += bytes;
  }
  Checksummer sum;
  sum.Update(out.data(), out.size());
  Put<uint64_t>(&out, sum.Digest64());
  out.append(kEndMagic, kMagicBytes);
  return WriteFileAtomic(path, out);  // temporary name, fsync, rename
}

Result<Checkpoint> ReadCheckpoint(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(std::string data, ReadFileToString(path));
  auto bad = [&](const std::string& what) { return Status::Corruption("checkpoint " + what).WithFile(path); };
  if (data.size() < 2 * kMagicBytes + sizeof(uint64_t) || data.compare(0, kMagicBytes, kMagic) != 0) {
    return bad("does not start with " + std::string(kMagic) + " (not a checkpoint, or empty)");
  }
  if (data.compare(data.size() - kMagicBytes, kMagicBytes, kEndMagic) != 0) {
    return bad(fmt::format("is truncated ({} bytes, no end marker)", data.size()));
  }
  const size_t body_end = data.size() - kMagicBytes - sizeof(uint64_t);
  uint64_t stored = 0;
  std::memcpy(&stored, data.data() + body_end, sizeof(stored));
  Checksummer sum;
  sum.Update(data.data(), body_end);
  if (sum.Digest64() != stored) {
    return bad(fmt::format("checksum mismatch (stored {:016x}, computed {:016x})", stored, sum.Digest64()));
  }
  Reader r(data, body_end);
  Checkpoint c;
  uint64_t header_bytes = 0;
  std::string header;
  if (!r.Get(&header_bytes) || !r.Bytes(header_bytes, &header)) return bad("header is cut short");
  c.header = Json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (c.header.is_discarded() || !c.header.is_object()) return bad("header is not a JSON object");
  uint32_t sections = 0;
  if (!r.Get(&sections)) return bad("section count is cut short");
  for (uint32_t i = 0; i < sections; ++i) {
    uint32_t name_bytes = 0;
    uint64_t size = 0;
    std::string name, bytes;
    if (!r.Get(&name_bytes) || !r.Bytes(name_bytes, &name) || !r.Get(&size) || !r.Bytes(size, &bytes)) {
      return bad(fmt::format("section {} of {} is cut short", i + 1, sections));
    }
    c.sections[name] = std::move(bytes);
  }
  if (!r.done()) return bad("has bytes after its last section");
  return c;
}

namespace {

// The checkpoint files of `dir`, latest first.
std::vector<std::pair<CheckpointPosition, std::string>> CheckpointFiles(const std::string& dir) {
  std::vector<std::pair<CheckpointPosition, std::string>> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (auto at = ParseCheckpointFileName(e.path().filename().string())) files.emplace_back(*at, e.path().string());
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return b.first < a.first; });
  return files;
}

}  // namespace

std::optional<FoundCheckpoint> LatestCheckpoint(const std::string& dir, std::vector<std::string>* skipped) {
  for (const auto& [at, path] : CheckpointFiles(dir)) {
    auto c = ReadCheckpoint(path);
    if (c.ok()) return FoundCheckpoint{path, at, std::move(*c)};
    if (skipped != nullptr) skipped->push_back(c.status().ToString());
  }
  return std::nullopt;
}

Status PruneCheckpoints(const std::string& dir, int keep) {
  const auto files = CheckpointFiles(dir);
  for (size_t i = static_cast<size_t>(std::max(keep, 0)); i < files.size(); ++i) {
    std::error_code ec;
    fs::remove(files[i].second, ec);
    if (ec) return Status::IOError("cannot remove an old checkpoint: " + ec.message()).WithFile(files[i].second);
  }
  return Status::OK();
}

}  // namespace avctl
