// What identifies the code a command job ran (docs/JOBS.md, "Provenance"):
// the script its command runs and that script's SHA-256. The worker puts it
// in every result's provenance; `avctl sweep submit` computes it for the
// program as it is now and compares it with the stored results', so that a
// resubmit after the program changed never mixes two versions silently.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace avctl {

// The script of an argv (template or rendered): the first element that names
// a regular file, relative to `workdir` unless absolute. Options ("-u"),
// placeholders ("{config}") and a bare first element (a program looked up in
// PATH: the interpreter, not the script) are skipped. "" when none is found
// (e.g. `python3 -m package.train`).
std::string FindScript(const std::vector<std::string>& argv, const std::string& workdir);

// Lower-case hex SHA-256 of a file's bytes (libsodium); errors name the file.
Result<std::string> FileSha256(const std::string& path);

// The git state of a folder: the commit checked out and whether tracked
// files differ from it (`git status --porcelain --untracked-files=no`).
// Empty commit when git is not installed or the folder is in no repository.
struct GitState {
  std::string commit;
  bool dirty = false;
};
GitState ReadGitState(const std::string& dir, const std::vector<std::string>& env);

struct ProgramFingerprint {
  std::string script;         // absolute path; "" when the command names no script
  std::string script_sha256;  // "" when there is no script
  GitState git;               // of the script's folder (else the workdir)
};
// `env`: where git is looked up (PATH), "NAME=value" each.
Result<ProgramFingerprint> FingerprintProgram(const std::vector<std::string>& argv, const std::string& workdir,
                                              const std::vector<std::string>& env);

}  // namespace avctl
