#include "cli/code_check.h"

#include <fmt/format.h>

namespace avctl::cli {

std::map<std::string, ProgramFingerprint> CurrentCode(const SweepSpec& spec, std::vector<std::string>* unchecked) {
  std::map<std::string, ProgramFingerprint> out;
  for (const SweepVariant& v : spec.variants) {
    if (v.kind != JobKind::kCommand) continue;
    std::vector<std::string> argv;
    if (v.program.contains("command") && v.program["command"].is_array()) {
      for (const auto& a : v.program["command"]) {
        if (a.is_string()) argv.push_back(a.get<std::string>());
      }
    }
    const std::string workdir =
        v.program.contains("workdir") && v.program["workdir"].is_string() ? v.program["workdir"].get<std::string>() : "";
    auto f = FingerprintProgram(argv, workdir);
    if (!f.ok() || f->script.empty()) {
      if (unchecked != nullptr) unchecked->push_back(v.name);
      continue;
    }
    out[v.name] = *f;
  }
  return out;
}

std::string ChangedCode(const std::map<std::string, ProgramFingerprint>& now, const Json& stored) {
  std::string out;
  if (!stored.is_array()) return out;
  for (const auto& [variant, code] : now) {
    int64_t other = 0;
    std::vector<std::string> hashes;
    for (const auto& row : stored) {
      if (!row.is_object() || row.value("variant", "") != variant) continue;
      const std::string sha = row.value("script_sha256", "");
      if (sha == code.script_sha256) continue;
      other += row.value("results", int64_t{0});
      hashes.push_back(sha.empty() ? "no recorded script" : sha.substr(0, 12));
    }
    if (other == 0) continue;
    std::string list;
    for (const auto& h : hashes) list += (list.empty() ? "" : ", ") + h;
    out += fmt::format("  variant {}: {} stored result(s) ran another version of {} (sha256 {}); it is now {}\n",
                       variant, other, code.script, list, code.script_sha256.substr(0, 12));
  }
  return out;
}

}  // namespace avctl::cli
