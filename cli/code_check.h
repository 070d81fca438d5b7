// The resubmit check of `avctl sweep submit`: the scripts of a sweep's
// command variants as they are now, against the code behind the results the
// record already holds for that sweep (their provenance). Jobs already in
// the record keep their results and are not run again, so adding seeds
// after the program changed would mix two versions of it in one test.
// Pure: the caller fingerprints the scripts and asks the coordinator.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "sweeps/program_fingerprint.h"
#include "sweeps/sweep_spec.h"

namespace avctl::cli {

// Each command variant's script as it is now, by variant name; variants
// whose script cannot be found from here (a workdir not mounted on this
// machine) are named in `unchecked`.
std::map<std::string, ProgramFingerprint> CurrentCode(const SweepSpec& spec, std::vector<std::string>* unchecked);

// One line per variant whose stored results ran another version of its
// script, or the same script at another commit of its repository ("" when
// none did), from the record's code_versions reply ([{variant, script,
// script_sha256, git_commit, results}]).
std::string ChangedCode(const std::map<std::string, ProgramFingerprint>& now, const Json& stored);

}  // namespace avctl::cli
