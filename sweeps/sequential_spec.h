// A sweep's "sequential" member: its comparisons tested at interim looks
// with a group-sequential design (common/sequential_design.h), so that a
// comparison decided early spends no further seeds.
//
//   "sequential": {"looks": [5, 10, 15, 20], "spending": "obrien_fleming" | "pocock",
//                  "futility": "none" | "non_binding", "beta": 0.2, "strict": false,
//                  "release": "held" | "speculative"}
//
// Looks count matched pairs (seeds x partitions); the last look equals the
// sweep's pairs, and every look is a whole number of seeds (a multiple of
// the partitions), since stages release whole seeds. Errors name the field
// ("sequential.looks[2]"). Pure code.
#pragma once

#include <optional>
#include <string>

#include "common/json_util.h"
#include "common/sequential_design.h"
#include "common/status.h"

namespace avctl {

enum class StageRelease {
  kHeld,         // each stage's jobs are released only after the previous look is analysed
  kSpeculative,  // every job released at once; results past a decision are recorded as overrun
};

struct SequentialSweep {
  SequentialDesignSpec design;  // alpha: the sweep's
  StageRelease release = StageRelease::kHeld;
};

// `member`: the spec's "sequential" value; `seeds` x `partitions`: the sweep's pairs.
Result<SequentialSweep> ParseSequentialSweep(const Json& member, double alpha, int seeds, int partitions);

Json SequentialSweepToJson(const SequentialSweep& s);

// The stage of the sweep's `seed_index`-th seed (0-based): the first look
// whose pairs include it (looks[k] / partitions seeds by look k). Seeds past
// the last look belong to the last stage.
int StageOfSeed(const SequentialDesignSpec& design, int seed_index, int partitions);

}  // namespace avctl
