#include "sweeps/program_fingerprint.h"

#include <sodium.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/subprocess.h"

namespace avctl {

namespace fs = std::filesystem;

std::string FindScript(const std::vector<std::string>& argv, const std::string& workdir) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.empty() || a[0] == '-' || a.find('{') != std::string::npos) continue;
    if (i == 0 && a.find('/') == std::string::npos) continue;  // looked up in PATH: an installed program
    const fs::path p = fs::path(a).is_absolute() || workdir.empty() ? fs::path(a) : fs::path(workdir) / a;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return fs::absolute(p, ec).lexically_normal().string();
  }
  return "";
}

Result<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(fmt::format("cannot read {}", path)).WithFile(path);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::array<char, 1 << 16> buf;
  while (in) {
    in.read(buf.data(), buf.size());
    const std::streamsize n = in.gcount();
    if (n > 0) crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buf.data()), n);
  }
  if (in.bad()) return Status::IOError(fmt::format("reading {} failed", path)).WithFile(path);
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest;
  crypto_hash_sha256_final(&state, digest.data());
  std::string hex;
  hex.reserve(2 * digest.size());
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

GitState ReadGitState(const std::string& dir, const std::vector<std::string>& env) {
  GitState g;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return g;
  // No .git in it or above it: no repository, and no git process to ask.
  bool in_repo = false;
  for (fs::path p = fs::absolute(dir, ec); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p / ".git", ec)) {
      in_repo = true;
      break;
    }
    if (p == p.root_path()) break;
  }
  if (!in_repo) return g;
  auto head = RunCaptured({"git", "-C", dir, "rev-parse", "--verify", "HEAD"}, env, "", std::chrono::seconds(5), 256);
  if (!head.ok() || !head->succeeded()) return g;  // no git here, or not a repository (with a commit)
  std::string commit = head->output.substr(0, head->output.find('\n'));
  if (commit.size() != 40 && commit.size() != 64) return g;
  auto status = RunCaptured({"git", "-C", dir, "status", "--porcelain", "--untracked-files=no"}, env, "",
                            std::chrono::seconds(10), 4096);
  if (!status.ok() || !status->succeeded()) return g;
  g.commit = std::move(commit);
  g.dirty = !status->output.empty();
  return g;
}

Result<ProgramFingerprint> FingerprintProgram(const std::vector<std::string>& argv, const std::string& workdir,
                                              const std::vector<std::string>& env) {
  ProgramFingerprint f;
  f.script = FindScript(argv, workdir);
  if (!f.script.empty()) {
    AVCTL_ASSIGN_OR_RETURN(f.script_sha256, FileSha256(f.script));
  }
  f.git = ReadGitState(f.script.empty() ? workdir : fs::path(f.script).parent_path().string(), env);
  return f;
}

}  // namespace avctl
