#include "worker/interpreter_info.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/subprocess.h"

namespace avctl {

namespace fs = std::filesystem;

bool IsKnownInterpreter(const std::string& name) {
  for (const char* prefix : {"python", "pypy", "Rscript", "julia", "node", "perl", "ruby", "bash", "torchrun",
                             "accelerate", "lua"}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::string ResolveInPath(const std::string& name, const std::string& path_var) {
  size_t start = 0;
  while (start <= path_var.size()) {
    size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    const std::string dir = end > start ? path_var.substr(start, end - start) : ".";
    const fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p)) return p.string();
    start = end + 1;
  }
  return "";
}

namespace {

// The first line `path --version` prints (stdout and stderr) within two
// seconds; "" if it prints nothing, fails or hangs (then it is killed).
std::string VersionLine(const std::string& path, const std::vector<std::string>& env) {
  auto run = RunCaptured({path, "--version"}, env, "", std::chrono::seconds(2), 4096);
  if (!run.ok() || run->timed_out) return "";
  std::string line = run->output.substr(0, run->output.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line.substr(0, 200);
}

}  // namespace

Json InterpreterInfo::Describe(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                               const std::string& workdir) {
  if (argv.empty()) return Json();
  const std::string& first = argv[0];
  std::string path;
  if (first.find('/') != std::string::npos) {
    path = fs::path(first).is_absolute() || workdir.empty() ? first : (fs::path(workdir) / first).lexically_normal().string();
  } else {
    std::string path_var = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& e : env) {
      if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
    }
    path = ResolveInPath(first, path_var);
  }
  Json out = {{"path", path.empty() ? first : path}};
  if (path.empty() || !IsKnownInterpreter(fs::path(path).filename().string())) return out;
  std::lock_guard<std::mutex> lock(mu_);  // one question per interpreter, even from two attempts at once
  auto it = versions_.find(path);
  if (it == versions_.end()) it = versions_.emplace(path, VersionLine(path, env)).first;
  if (!it->second.empty()) out["version"] = it->second;
  return out;
}

}  // namespace avctl
