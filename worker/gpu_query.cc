#include "worker/gpu_query.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include <fmt/format.h>

#include "common/text.h"

namespace avctl {

Result<GpuInfo> ParseNvidiaSmiGpu(const std::string& line) {
  std::string_view text_line = line;
  while (!text_line.empty() && (text_line.back() == '\n' || text_line.back() == '\r')) text_line.remove_suffix(1);
  const std::vector<std::string_view> f = SplitOn(Trim(text_line), ',');
  if (f.size() != 3) {
    return Status::InvalidArgument(fmt::format("nvidia-smi: expected \"name, total MiB, free MiB\", got \"{}\"", line));
  }
  GpuInfo g;
  g.name = std::string(Trim(f[0]));
  for (auto [text, out] : {std::pair{Trim(f[1]), &g.total_mb}, std::pair{Trim(f[2]), &g.free_mb}}) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(c); })) {
      return Status::InvalidArgument(fmt::format("nvidia-smi: expected MiB as a whole number, got \"{}\"", text));
    }
    *out = std::stoll(std::string(text));
  }
  if (g.free_mb > g.total_mb) return Status::InvalidArgument("nvidia-smi: free memory above the total");
  return g;
}

GpuInfo QueryGpu(int index) {
  const std::string cmd = fmt::format(
      "nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits -i {} 2>/dev/null", index);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {};
  std::array<char, 512> buf{};
  std::string out;
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  ::pclose(p);
  auto g = ParseNvidiaSmiGpu(out);
  return g.ok() ? *g : GpuInfo{};
}

}  // namespace avctl
