// libFuzzer target: avcoord's HTTP endpoint from the bytes on the wire.
// Boost.Beast parses the input as a request, as the server does; a request it
// accepts goes through HttpApi::Handle (routing, the control API's reads, the
// status page, metrics, live reports) against a record holding one sweep, and
// exactly one reply must come. The raw input also goes through
// ParseHttpTarget directly. Crashes once found (fuzz/regressions/http): a
// sweep id beyond int64, a raw 0xFF byte in the path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/coordinator_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* fx = new avctl::fuzz::CoordinatorFixture();  // one per process
  int status = 0;
  const int replies = avctl::fuzz::HandleHttpBytes(*fx, std::string(reinterpret_cast<const char*>(data), size), &status);
  if (replies == -1) return 0;                        // Beast refused the bytes: the server answers 400
  if (replies != 1) std::abort();                     // no reply, or more than one
  if (status == 500) std::abort();                    // a handler failed unexpectedly
  return 0;
}
