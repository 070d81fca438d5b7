// Broken sweep specs, each with the JSON path its error must name and a
// fragment of the message: the parser's unit tests and the malformed-input
// table of the integration tests (tests/cluster) share them.
#pragma once

#include <string>
#include <vector>

namespace avctl::testutil {

struct BadSpec {
  std::string name;
  std::string json;
  std::string field;
  std::string fragment;
};

#define CMD_SPEC(program, variants) \
  R"({"name": "s", "seeds": 2, "program": )" program R"(, "variants": )" variants "}"
#define SPEC(variants) R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "variants": )" variants "}"

inline std::vector<BadSpec> BadSpecs() {
  return {
      BadSpec{"OverrideType", SPEC(R"([{"name": "a", "variant": "ladder_av"}, {"name": "b", "variant": "backbone"},
                {"name": "c", "variant": "mult", "overrides": {"train": {"lr": "fast"}}}])"),
                "variants[2].overrides.train.lr", "variants[2].overrides.train.lr: expected a number, got \"fast\""},
      BadSpec{"UnknownVariant", SPEC(R"([{"name": "x", "variant": "resnet"}])"), "variants[0].variant", "unknown model variant"},
      BadSpec{"DuplicateName", SPEC(R"([{"name": "ladder_av"}, {"name": "ladder_av"}])"), "variants[1].name", "used twice"},
      BadSpec{"BadRole", SPEC(R"([{"name": "ladder_av", "role": "hero"}])"), "variants[0].role", "\"hero\""},
      BadSpec{"UnknownField", SPEC(R"([{"name": "ladder_av", "overides": {}}])"), "variants[0].overides", "unknown field"},
      BadSpec{"EmptyGrid", SPEC(R"([{"name": "ladder_av", "space": {"model.lambda": []}}])"), "variants[0].space.model.lambda", "empty grid"},
      BadSpec{"BadDistribution", SPEC(R"([{"name": "ladder_av", "space": {"model.lambda": {"gauss": [0, 1]}}, "samples": 2}])"),
                "variants[0].space.model.lambda", "unknown distribution"},
      BadSpec{"RandomWithoutSamples", SPEC(R"([{"name": "ladder_av", "space": {"model.lambda": {"uniform": [0, 1]}}}])"),
                "variants[0].samples", "sample count"},
      BadSpec{"LogUniformZero", SPEC(R"([{"name": "ladder_av", "space": {"train.lr": {"log_uniform": [0, 1]}}, "samples": 1}])"),
                "variants[0].space.train.lr.log_uniform", "lo > 0"},
      BadSpec{"NoVariants", SPEC("[]"), "variants", "non-empty list"},
      BadSpec{"BadSeeds", R"({"name": "s", "dataset": {"store": "x"}, "seeds": "many", "variants": [{"name": "ladder_av"}]})", "seeds", "a count"},
      BadSpec{"DuplicateSeed", R"({"name": "s", "dataset": {"store": "x"}, "seeds": [1, 1], "variants": [{"name": "ladder_av"}]})", "seeds[1]", "twice"},
      BadSpec{"NoDataset", R"({"name": "s", "seeds": 2, "variants": [{"name": "ladder_av"}]})", "dataset", "missing"},
      BadSpec{"BadDataset", R"({"name": "s", "dataset": {"s3": "x"}, "seeds": 2, "variants": [{"name": "ladder_av"}]})", "dataset", "expected {\"store\""},
      BadSpec{"BaseSetsSeed", R"({"name": "s", "dataset": {"store": "x"}, "base": {"seed": 3}, "seeds": 2, "variants": [{"name": "ladder_av"}]})",
                "base.seed", "set per job"},
      BadSpec{"BaseTypo", R"({"name": "s", "dataset": {"store": "x"}, "base": {"train": {"epoch": 3}}, "seeds": 2, "variants": [{"name": "ladder_av"}]})",
                "base.train.epoch", "unknown field"},
      BadSpec{"ComparisonUnknownBaseline", R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "variants": [{"name": "ladder_av"}],
                "comparisons": [{"variant": "ladder_av", "baselines": ["mult"]}]})", "comparisons[0].baselines[0]", "no variant named"},
      BadSpec{"ComparisonDirection", R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "variants": [{"name": "ladder_av"}, {"name": "backbone"}],
                "comparisons": [{"variant": "ladder_av", "baselines": ["backbone"], "direction": "two-sided"}]})", "comparisons[0].direction", "\"greater\" or \"less\""},
      BadSpec{"MinEffect", R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "variants": [{"name": "ladder_av"}, {"name": "backbone", "role": "baseline"}],
                "comparisons": [{"variant": "ladder_av", "baselines": ["backbone"], "min_effect": -0.01}]})", "comparisons[0].min_effect", "positive number"},
      BadSpec{"Alpha", R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "alpha": 1.5, "variants": [{"name": "ladder_av"}]})", "alpha", "(0, 1)"},
      BadSpec{"MaxAttempts", R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "max_attempts": 0, "variants": [{"name": "ladder_av"}]})", "max_attempts", "at least 1"},
      BadSpec{"NameWithSlash", R"({"name": "a/b", "dataset": {"store": "x"}, "seeds": 2, "variants": [{"name": "ladder_av"}]})", "name", "no '/'"},
      BadSpec{"UnknownKind", R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "kind": "eval", "variants": [{"name": "ladder_av"}]})", "kind", "\"command\" or \"sleep\""},
      BadSpec{"SleepSecondsWithoutSleep", R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "sleep_seconds": 1, "variants": [{"name": "ladder_av"}]})", "sleep_seconds", "only for"},
      BadSpec{"NegativeSleep", R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "kind": "sleep", "sleep_seconds": -1, "variants": [{"name": "ladder_av"}]})", "sleep_seconds", "0 to 86400"},
      BadSpec{"BadResources", R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "resources": {"device": "tpu"}, "variants": [{"name": "ladder_av"}]})", "resources.device", "\"any\", \"cpu\" or \"cuda\""},
      BadSpec{"AudiovisualVariantOnAudioOnlySynth", R"({"name": "s", "dataset": {"synth": {"profile": "tiny", "audio_only": true}}, "seeds": 2, "variants": [{"name": "backbone_audio"}, {"name": "mult"}]})", "variants[1].variant", "'mult' needs the visual modality"},
      BadSpec{"BadSynthLabels", R"({"name": "s", "dataset": {"synth": {"profile": "tiny", "labels": {"files": ["a.csv"], "format": "iemocap"}}}, "seeds": 2, "variants": [{"name": "ladder_av"}]})", "dataset.synth.labels.format", "iemocap"},
      BadSpec{"BadSynthProfile", R"({"name": "s", "dataset": {"synth": {"profile": "huge", "seed": 1}}, "seeds": 2, "variants": [{"name": "ladder_av"}]})", "dataset.synth.profile", "huge"},
      // Command variants (docs/JOBS.md).
      BadSpec{"CommandUndeclaredOverride",
              CMD_SPEC(R"({"command": ["./run.sh", "{args}"], "params": {"lr": 0.1}})",
                       R"([{"name": "a", "kind": "command", "overrides": {"params": {"lrr": 1}}}])"),
              "variants[0].overrides.params.lrr", "not a parameter the program declares (declared: lr)"},
      BadSpec{"CommandUndeclaredSpace",
              CMD_SPEC(R"({"command": ["./run.sh", "{args}"], "params": {"lr": 0.1}})",
                       R"([{"name": "a", "kind": "command", "space": {"params.hidden": [1, 2]}}])"),
              "variants[0].space.params.hidden", "declared parameter"},
      BadSpec{"CommandUnknownPlaceholder",
              CMD_SPEC(R"({"command": ["./run.sh", "--config", "{cfg}"]})", R"([{"name": "a", "kind": "command"}])"),
              "program.command[2]", "unknown placeholder {cfg}"},
      BadSpec{"CommandUndeclaredParamPlaceholder",
              CMD_SPEC(R"({"command": ["./run.sh", "--lr={param.lr}"]})", R"([{"name": "a", "kind": "command"}])"),
              "program.command[1]", "does not declare"},
      BadSpec{"CommandArgsInsideElement",
              CMD_SPEC(R"({"command": ["./run.sh", "x{args}"]})", R"([{"name": "a", "kind": "command"}])"),
              "program.command[1]", "element of its own"},
      BadSpec{"CommandWithoutProgram", R"({"name": "s", "seeds": 2, "variants": [{"name": "a", "kind": "command"}]})",
              "program.command", "needs its program's argv"},
      BadSpec{"CommandWithPreset",
              CMD_SPEC(R"({"command": ["./run.sh"]})", R"([{"name": "a", "kind": "command", "variant": "ladder_av"}])"),
              "variants[0].variant", "not a model preset"},
      BadSpec{"CommandReservedEnv",
              CMD_SPEC(R"({"command": ["./run.sh"]})",
                       R"([{"name": "a", "kind": "command", "program": {"env": {"AVCTL_RESULT": "x"}}}])"),
              "variants[0].program.env.AVCTL_RESULT", "set by the worker"},
      BadSpec{"CommandRelativeWorkdir",
              CMD_SPEC(R"({"command": ["./run.sh"], "workdir": "code"})", R"([{"name": "a", "kind": "command"}])"),
              "program.workdir", "relative"},
      BadSpec{"CommandProgramTypo",
              CMD_SPEC(R"({"command": ["./run.sh"], "timeout": 3})", R"([{"name": "a", "kind": "command"}])"),
              "program.timeout", "unknown field"},
      BadSpec{"ProgramOnBuiltInVariant",
              R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "variants": [{"name": "ladder_av", "program": {}}]})",
              "variants[0].program", "only for a command variant"},
      BadSpec{"BuiltInVariantWithoutDataset",
              CMD_SPEC(R"({"command": ["./run.sh"]})", R"([{"name": "a", "kind": "command"}, {"name": "backbone"}])"),
              "dataset", "variant \"backbone\" trains a built-in model"},
  };
}

#undef SPEC
#undef CMD_SPEC

}  // namespace avctl::testutil
