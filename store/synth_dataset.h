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
// "audio_llds", "visual_dim", "label_sharpness", "audio_only", and "labels":
// another corpus's labels file(s) {"files": [...], "format": "generic" |
// "msp-podcast", "group_column", "gender_column", "classes", "class_names",
// "merge": {"exc": "hap"}, ...} (store/label_source.h; a relative file is
// looked up under the shipped data folder, data/); without "labels" the
// shipped CREMA-D partitions}; unknown fields and bad values are errors
// naming `path`. out_dir is left empty.
Result<SynthOptions> SynthOptionsFromJson(const Json& j, const std::string& path);

// A directory name that identifies the options ("synth-tiny-s1-..."); with
// label files, SynthCacheNameWithLabels adds a checksum of their contents
// and of how they are read.
std::string SynthCacheName(const SynthOptions& o);
Result<std::string> SynthCacheNameWithLabels(const SynthOptions& o);

// The store for `options` under `cache_dir`, synthesised on first use from
// its label files (default: the shipped partition files). Concurrent callers (processes) wait on a
// lock file, so the store is built once.
Result<std::string> EnsureSynthStore(SynthOptions options, const std::string& cache_dir, Logger* log);

// The store directory of a job's dataset: {"store": DIR} as given, or
// {"synth": {...}} built under `cache_dir` on first use. Errors name `path`.
Result<std::string> ResolveDatasetStore(const Json& dataset, const std::string& cache_dir, Logger* log,
                                        const std::string& path);

}  // namespace avctl
