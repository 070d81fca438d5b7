// Synthetic datasets named inline in sweep specs ({"synth": {"profile":
// "tiny", "seed": 1}}): parsed and checked here, and materialised by each
// worker in its own cache. Synthesis is byte-identical per seed, so every
// worker builds the same store without a shared file system.
#pragma once

#include <string>

#include "common/json_util.h"
#include "common/log.h"
#include "common/status.h"
#include "store/synth.h"

namespace avctl {

// {"profile": "tiny"|"small"|"full", "seed": N, optional "clips_per_actor",
// "audio_llds", "visual_dim", "label_sharpness"}; unknown fields and bad
// values are errors naming `path`. label_files and out_dir are left empty.
Result<SynthOptions> SynthOptionsFromJson(const Json& j, const std::string& path);

// A directory name that identifies the options ("synth-tiny-s1-...").
std::string SynthCacheName(const SynthOptions& o);

// The store for `options` under `cache_dir`, synthesised on first use from
// the default partition files. Concurrent callers (processes) wait on a
// lock file, so the store is built once.
Result<std::string> EnsureSynthStore(SynthOptions options, const std::string& cache_dir, Logger* log);

// The store directory of a job's dataset: {"store": DIR} as given, or
// {"synth": {...}} built under `cache_dir` on first use. Errors name `path`.
Result<std::string> ResolveDatasetStore(const Json& dataset, const std::string& cache_dir, Logger* log,
                                        const std::string& path);

}  // namespace avctl
