// libFuzzer target: avcoord's control operations. The input is a control
// message body as it arrives on the control socket; what DecodeControl takes
// goes through ControlApi::Handle (every op: submit, status, jobs, results,
// events, cancel, retry, drains) against a record holding one sweep, inside a
// transaction rolled back afterwards, and the reply must encode and must not
// be an escaped exception's. Crashes once found (fuzz/regressions/control):
// a sweep id beyond int64, a text where an integer belongs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/coordinator_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* fx = new avctl::fuzz::CoordinatorFixture();  // one per process
  bool internal = false;
  (void)avctl::fuzz::HandleControlBytes(*fx, std::string(reinterpret_cast<const char*>(data), size), &internal);
  if (internal) std::abort();
  return 0;
}
