// libFuzzer target: the sweep-spec parser and its expansion (bounded by
// kMaxSweepJobs; specs that expand to more are refused before expansion).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/json_util.h"
#include "sweeps/sweep_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto json = avctl::ParseJson(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!json.ok()) return 0;
  auto spec = avctl::ParseSweepSpec(*json, "fuzz.json");
  if (!spec.ok()) return 0;
  auto jobs = avctl::ExpandSweep(*spec);
  if (jobs.ok() && jobs->size() <= 1000) (void)avctl::RenderExpansion(*spec, *jobs);
  return 0;
}
