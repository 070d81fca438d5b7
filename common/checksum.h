// Checksums of data files: XXH3-64 (libxxhash), rendered as
// "xxh3-64:<16 hex digits>". Chosen for speed (several GB/s), since a full
// feature store is several GB and is verified every time it is opened.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace avctl {

inline constexpr const char* kChecksumAlgorithm = "xxh3-64";

// Incremental hasher: feed bytes in any chunking, same digest.
class Checksummer {
 public:
  Checksummer();
  ~Checksummer();
  Checksummer(const Checksummer&) = delete;
  Checksummer& operator=(const Checksummer&) = delete;

  void Update(const void* data, size_t size);
  uint64_t Digest64() const;
  std::string Digest() const;  // "xxh3-64:0123456789abcdef"

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string ChecksumBytes(const void* data, size_t size);
// Streams the file (no full read into memory).
Result<std::string> ChecksumFile(const std::string& path);

}  // namespace avctl
