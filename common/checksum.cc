#include "common/checksum.h"

#include <cerrno>
#include <cstdio>
#include <vector>

#include <fmt/format.h>
#include <xxhash.h>

namespace avctl {

struct Checksummer::State {
  XXH3_state_t* xxh = nullptr;
};

Checksummer::Checksummer() : state_(std::make_unique<State>()) {
  state_->xxh = XXH3_createState();
  XXH3_64bits_reset(state_->xxh);
}

Checksummer::~Checksummer() { XXH3_freeState(state_->xxh); }

void Checksummer::Update(const void* data, size_t size) { XXH3_64bits_update(state_->xxh, data, size); }

uint64_t Checksummer::Digest64() const { return XXH3_64bits_digest(state_->xxh); }

std::string Checksummer::Digest() const { return fmt::format("{}:{:016x}", kChecksumAlgorithm, Digest64()); }

std::string ChecksumBytes(const void* data, size_t size) {
  return fmt::format("{}:{:016x}", kChecksumAlgorithm, XXH3_64bits(data, size));
}

Result<std::string> ChecksumFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::FromErrno("cannot open for checksum", errno).WithFile(path);
  Checksummer sum;
  std::vector<char> buf(4 << 20);
  while (true) {
    size_t n = std::fread(buf.data(), 1, buf.size(), f);
    if (n > 0) sum.Update(buf.data(), n);
    if (n < buf.size()) break;
  }
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::IOError("read failed while computing checksum").WithFile(path);
  return sum.Digest();
}

}  // namespace avctl
