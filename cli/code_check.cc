#include "cli/code_check.h"

#include <fmt/format.h>

#include "common/subprocess.h"

namespace avctl::cli {

std::map<std::string, ProgramFingerprint> CurrentCode(const SweepSpec& spec, std::vector<std::string>* unchecked) {
  std::map<std::string, ProgramFingerprint> out;
  const std::vector<std::string> env = ProcessEnvironment();  // where git is looked up
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
    auto f = FingerprintProgram(argv, workdir, env);
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
    int64_t other_script = 0, other_commit = 0;
    std::vector<std::string> hashes, commits;
    for (const auto& row : stored) {
      if (!row.is_object() || row.value("variant", "") != variant) continue;
      const std::string sha = row.value("script_sha256", "");
      const std::string commit = row.value("git_commit", "");
      const int64_t n = row.value("results", int64_t{0});
      if (sha != code.script_sha256) {
        other_script += n;
        hashes.push_back(sha.empty() ? "no recorded script" : sha.substr(0, 12));
      } else if (!commit.empty() && !code.git.commit.empty() && commit != code.git.commit) {
        // The script is the same; what it imports from its repository may not be.
        other_commit += n;
        commits.push_back(commit.substr(0, 12));
      }
    }
    auto join = [](const std::vector<std::string>& xs) {
      std::string s;
      for (const auto& x : xs) s += (s.empty() ? "" : ", ") + x;
      return s;
    };
    if (other_script > 0) {
      out += fmt::format("  variant {}: {} stored result(s) ran another version of {} (sha256 {}); it is now {}\n",
                         variant, other_script, code.script, join(hashes), code.script_sha256.substr(0, 12));
    }
    if (other_commit > 0) {
      out += fmt::format("  variant {}: {} stored result(s) ran {} at another commit ({}); its repository is now at "
                         "{}\n",
                         variant, other_commit, code.script, join(commits), code.git.commit.substr(0, 12));
    }
  }
  return out;
}

}  // namespace avctl::cli
