#include "sweeps/sweep_spec.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "common/random.h"
#include "sweeps/command_job.h"
#include "sweeps/job_resources.h"
#include "store/synth_dataset.h"

namespace avctl {

const char* SpaceKindName(SpaceKind k) {
  switch (k) {
    case SpaceKind::kGrid: return "grid";
    case SpaceKind::kUniform: return "uniform";
    case SpaceKind::kLogUniform: return "log_uniform";
    case SpaceKind::kInt: return "int";
    case SpaceKind::kChoice: return "choice";
  }
  return "?";
}

namespace {

Status Invalid(const std::string& path, const std::string& msg) {
  return Status::InvalidArgument(fmt::format("{}: {}", path, msg)).WithField(path);
}

Status CheckKeys(const Json& obj, const std::string& path, const std::set<std::string>& known) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!known.count(it.key())) return Invalid(JoinJsonPath(path, it.key()), "unknown field");
  }
  return Status::OK();
}

// Re-roots a job-config error ("train.lr: ...") under `prefix` ("variants[2].overrides").
Status Reroot(const Status& s, const std::string& prefix) {
  std::string field = s.field().empty() ? prefix : JoinJsonPath(prefix, s.field());
  std::string msg = s.message();
  if (!s.field().empty() && msg.rfind(s.field() + ":", 0) == 0) msg = field + msg.substr(s.field().size());
  return Status::InvalidArgument(msg).WithField(field);
}

Result<SpaceDim> ParseDim(const std::string& key, const Json& v, const std::string& path) {
  SpaceDim d;
  d.path = key;
  if (key.find('.') == std::string::npos) {
    return Invalid(path, "expected a dotted job path such as \"model.lambda\" or \"train.lr\"");
  }
  if (v.is_array()) {
    if (v.empty()) return Invalid(path, "an empty grid");
    d.kind = SpaceKind::kGrid;
    d.values.assign(v.begin(), v.end());
    return d;
  }
  if (!v.is_object() || v.size() != 1) {
    return Invalid(path, "expected a list (grid) or one of {\"uniform\": [lo, hi]}, {\"log_uniform\": [lo, hi]}, "
                         "{\"int\": [lo, hi]}, {\"choice\": [...]}, got " + DescribeJson(v));
  }
  const std::string name = v.begin().key();
  const Json& arg = v.begin().value();
  const std::string arg_path = JoinJsonPath(path, name);
  if (name == "choice") {
    d.kind = SpaceKind::kChoice;
    if (!arg.is_array() || arg.empty()) return Invalid(arg_path, "expected a non-empty list");
    d.values.assign(arg.begin(), arg.end());
    return d;
  }
  if (name == "uniform") {
    d.kind = SpaceKind::kUniform;
  } else if (name == "log_uniform") {
    d.kind = SpaceKind::kLogUniform;
  } else if (name == "int") {
    d.kind = SpaceKind::kInt;
  } else {
    return Invalid(path, fmt::format("unknown distribution \"{}\" (expected uniform, log_uniform, int or choice)", name));
  }
  if (!arg.is_array() || arg.size() != 2 || !arg[0].is_number() || !arg[1].is_number()) {
    return Invalid(arg_path, "expected [lo, hi], got " + DescribeJson(arg));
  }
  d.lo = arg[0].get<double>();
  d.hi = arg[1].get<double>();
  if (!(d.lo <= d.hi)) return Invalid(arg_path, "lo must not exceed hi");
  if (d.kind == SpaceKind::kLogUniform && d.lo <= 0) return Invalid(arg_path, "log_uniform needs lo > 0");
  if (d.kind == SpaceKind::kInt && (d.lo != std::floor(d.lo) || d.hi != std::floor(d.hi))) return Invalid(arg_path, "int needs integer bounds");
  return d;
}

// Sets a dotted path ("model.lambda") inside a job JSON.
void SetPath(Json* job, const std::string& dotted, const Json& value) {
  Json* node = job;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    node = &(*node)[key];
    start = dot + 1;
  }
}

Json JobBase(const SweepSpec& spec, const SweepVariant& v) {
  if (v.kind == JobKind::kCommand) {
    Json job = v.program;
    if (v.overrides.contains("params")) job["params"].merge_patch(v.overrides["params"]);
    return job;
  }
  Json job = spec.base;
  job["variant"] = v.variant;
  job.merge_patch(v.overrides);
  return job;
}

const std::set<std::string>& ProgramKeys() {
  static const std::set<std::string> kKeys = {"command", "params", "env", "workdir", "timeout_minutes"};
  return kKeys;
}

// A command variant's program, its overrides and its space, checked against
// the parameters the program declares. `v.program` is already merged.
Status ParseCommandVariant(const Json& vj, const std::string& path, bool own_program, SweepVariant* v) {
  const std::string where = own_program ? JoinJsonPath(path, "program") : "program";
  if (vj.contains("variant")) {
    return Invalid(JoinJsonPath(path, "variant"), "a command variant runs its program, not a model preset");
  }
  if (Status s = CheckKeys(v->program, where, ProgramKeys()); !s.ok()) return s;
  if (!v->program.contains("command")) {
    return Invalid(JoinJsonPath(where, "command"), "a command variant needs its program's argv, e.g. "
                                                   "[\"python3\", \"train.py\", \"{args}\"] (docs/JOBS.md)");
  }
  if (auto check = CommandJobFromJson(v->program, ""); !check.ok()) {
    // Name the block the faulty field came from: the variant's own program or the sweep's.
    const std::string field = check.status().field();
    const std::string top = field.substr(0, field.find_first_of(".["));
    const bool from_variant = own_program && vj["program"].contains(top);
    return Reroot(check.status(), from_variant ? JoinJsonPath(path, "program") : "program");
  }
  const Json declared = v->program.value("params", Json::object());
  auto declared_list = [&] {
    std::string names;
    for (const auto& [k, val] : declared.items()) names += (names.empty() ? "" : ", ") + k;
    return names.empty() ? std::string("none") : names;
  };
  if (vj.contains("overrides")) {
    const std::string opath = JoinJsonPath(path, "overrides");
    if (Status s = CheckKeys(v->overrides, opath, {"params"}); !s.ok()) return s;
    if (v->overrides.contains("params")) {
      const Json& p = v->overrides["params"];
      const std::string ppath = JoinJsonPath(opath, "params");
      if (!p.is_object()) return Invalid(ppath, "expected an object of declared parameter names and values");
      for (const auto& [name, value] : p.items()) {
        if (!declared.contains(name)) {
          return Invalid(JoinJsonPath(ppath, name),
                         fmt::format("not a parameter the program declares (declared: {})", declared_list()));
        }
      }
    }
  }
  for (const SpaceDim& d : v->space) {
    const std::string dpath = JoinJsonPath(JoinJsonPath(path, "space"), d.path);
    if (d.path.rfind("params.", 0) != 0 || !declared.contains(d.path.substr(7))) {
      return Invalid(dpath, fmt::format("a command variant's space sets \"params.NAME\" for a declared parameter "
                                        "(declared: {})", declared_list()));
    }
  }
  v->variant = "command";
  return Status::OK();
}

}  // namespace

Result<SweepSpec> ParseSweepSpec(const Json& j, const std::string& source) {
  auto fail = [&](Status s) { return std::move(s).WithFile(source); };
  SweepSpec spec;
  if (!j.is_object()) return fail(Invalid("(top level)", "expected an object, got " + DescribeJson(j)));
  if (Status s = CheckKeys(j, "", {"name", "dataset", "base", "variants", "seeds", "partitions", "comparisons",
                                   "max_attempts", "priority", "alpha", "resources", "description", "kind",
                                   "sleep_seconds", "checkpoint_dir", "program", "sequential"});
      !s.ok()) {
    return fail(s);
  }
  auto name = GetString(j, "name", "");
  if (!name.ok()) return fail(name.status());
  spec.name = *name;
  if (spec.name.empty() || spec.name.find('/') != std::string::npos) return fail(Invalid("name", "must be non-empty and contain no '/'"));

  if (j.contains("kind")) {
    auto k = GetString(j, "kind", "");
    if (!k.ok()) return fail(k.status());
    auto kind = ParseJobKind(*k, "kind");
    if (!kind.ok()) return fail(Invalid("kind", kind.status().message()));
    spec.kind = *kind;
  }
  if (j.contains("program")) {
    spec.program = j["program"];
    if (!spec.program.is_object()) return fail(Invalid("program", "expected an object (command, params, env, workdir, timeout_minutes)"));
    if (Status s = CheckKeys(spec.program, "program", ProgramKeys()); !s.ok()) return fail(s);
  }
  spec.dataset = j.contains("dataset") ? j["dataset"] : Json();
  if (!j.contains("dataset")) {
    // Checked once the variants are known: only command variants may go without.
  } else if (!spec.dataset.is_object() || spec.dataset.size() != 1 ||
      (!spec.dataset.contains("store") && !spec.dataset.contains("synth"))) {
    return fail(Invalid("dataset", "expected {\"store\": DIR} or {\"synth\": {\"profile\": ..., \"seed\": ...}}, got " +
                                       DescribeJson(spec.dataset)));
  }
  if (spec.dataset.contains("store") && !spec.dataset["store"].is_string()) {
    return fail(Invalid("dataset.store", "expected a directory path"));
  }
  if (spec.dataset.contains("synth")) {
    if (auto synth = SynthOptionsFromJson(spec.dataset["synth"], "dataset.synth"); !synth.ok()) {
      return fail(synth.status());
    }
  }

  if (j.contains("base")) {
    spec.base = j["base"];
    if (!spec.base.is_object()) return fail(Invalid("base", "expected an object"));
    for (const char* k : {"variant", "seed", "partition", "key"}) {
      if (spec.base.contains(k)) return fail(Invalid(JoinJsonPath("base", k), "is set per job by the sweep"));
    }
    auto check = JobConfigFromJson(spec.base, source);
    if (!check.ok()) return fail(Reroot(check.status(), "base"));
  }

  auto variants = GetMember(j, "variants", "");
  if (!variants.ok()) return fail(variants.status());
  if (!(*variants)->is_array() || (*variants)->empty()) return fail(Invalid("variants", "expected a non-empty list"));
  std::set<std::string> names;
  for (size_t i = 0; i < (*variants)->size(); ++i) {
    const Json& vj = (**variants)[i];
    const std::string path = JoinJsonPath("variants", i);
    if (!vj.is_object()) return fail(Invalid(path, "expected an object, got " + DescribeJson(vj)));
    if (Status s = CheckKeys(vj, path, {"name", "kind", "variant", "role", "overrides", "space", "samples", "sample_seed",
                                    "program"});
        !s.ok()) {
      return fail(s);
    }
    SweepVariant v;
    auto vname = GetString(vj, "name", path);
    if (!vname.ok()) return fail(vname.status());
    v.name = *vname;
    if (v.name.empty() || v.name.find('/') != std::string::npos) return fail(Invalid(JoinJsonPath(path, "name"), "must be non-empty and contain no '/'"));
    if (!names.insert(v.name).second) return fail(Invalid(JoinJsonPath(path, "name"), fmt::format("\"{}\" is used twice", v.name)));
    v.kind = spec.kind;
    if (vj.contains("kind")) {
      auto k = GetString(vj, "kind", path);
      if (!k.ok()) return fail(k.status());
      auto kind = ParseJobKind(*k, JoinJsonPath(path, "kind"));
      if (!kind.ok() || *kind == JobKind::kSleep) {
        return fail(Invalid(JoinJsonPath(path, "kind"), fmt::format("expected \"train\" or \"command\", got \"{}\"", *k)));
      }
      if (spec.kind == JobKind::kSleep) return fail(Invalid(JoinJsonPath(path, "kind"), "a sleep sweep's variants all sleep"));
      v.kind = *kind;
    }
    if (vj.contains("program") && v.kind != JobKind::kCommand) {
      return fail(Invalid(JoinJsonPath(path, "program"), "only for a command variant (\"kind\": \"command\")"));
    }
    v.variant = v.name;
    if (v.kind == JobKind::kCommand) {
      // Checked with its program, overrides and space below.
    } else if (vj.contains("variant")) {
      auto preset = GetString(vj, "variant", path);
      if (!preset.ok()) return fail(preset.status());
      v.variant = *preset;
    }
    if (v.kind != JobKind::kCommand && !VariantPreset(v.variant).ok()) {
      return fail(Invalid(JoinJsonPath(path, vj.contains("variant") ? "variant" : "name"),
                          fmt::format("unknown model variant \"{}\"", v.variant)));
    }
    if (vj.contains("role")) {
      auto role = GetString(vj, "role", path);
      if (!role.ok()) return fail(role.status());
      if (*role != "proposed" && *role != "baseline" && *role != "ablation") {
        return fail(Invalid(JoinJsonPath(path, "role"), fmt::format("expected \"proposed\", \"baseline\" or \"ablation\", got \"{}\"", *role)));
      }
      v.role = *role;
    }
    if (vj.contains("overrides")) {
      v.overrides = vj["overrides"];
      if (!v.overrides.is_object()) return fail(Invalid(JoinJsonPath(path, "overrides"), "expected an object"));
    }
    if (v.kind != JobKind::kCommand) {
      auto check = JobConfigFromJson(JobBase(spec, v), source);
      if (!check.ok()) return fail(Reroot(check.status(), JoinJsonPath(path, "overrides")));
      // A synthetic store without video cannot train an audiovisual model:
      // said at submit rather than by every job failing on its worker.
      const bool audio_only_data = spec.dataset.contains("synth") && spec.dataset["synth"].is_object() &&
                                   spec.dataset["synth"].value("audio_only", false);
      if (audio_only_data && check->model.modalities == Modalities::kAudioVisual) {
        return fail(Invalid(JoinJsonPath(path, "variant"),
                            fmt::format("'{}' needs the visual modality and dataset.synth.audio_only is true; the "
                                        "audio-only variants are backbone_audio and ladder_audio",
                                        v.variant)));
      }
    }
    bool random = false;
    if (vj.contains("space")) {
      const Json& space = vj["space"];
      const std::string spath = JoinJsonPath(path, "space");
      if (!space.is_object() || space.empty()) return fail(Invalid(spath, "expected a non-empty object of dotted job paths"));
      for (auto it = space.begin(); it != space.end(); ++it) {
        auto dim = ParseDim(it.key(), it.value(), JoinJsonPath(spath, it.key()));
        if (!dim.ok()) return fail(dim.status());
        random |= dim->kind != SpaceKind::kGrid;
        v.space.push_back(*dim);
      }
    }
    if (vj.contains("samples")) {
      auto n = GetInt(vj, "samples", path);
      if (!n.ok()) return fail(n.status());
      if (*n < 1) return fail(Invalid(JoinJsonPath(path, "samples"), "must be at least 1"));
      v.samples = static_cast<int>(*n);
    }
    if (v.kind == JobKind::kCommand) {
      v.program = spec.program;
      if (vj.contains("program")) {
        if (!vj["program"].is_object()) return fail(Invalid(JoinJsonPath(path, "program"), "expected an object"));
        // Field by field: a variant's "params" or "env" replaces the sweep's whole.
        for (const auto& [k, val] : vj["program"].items()) v.program[k] = val;
      }
      if (Status s = ParseCommandVariant(vj, path, vj.contains("program"), &v); !s.ok()) return fail(s);
    }
    if (random && v.samples == 0) return fail(Invalid(JoinJsonPath(path, "samples"), "the space has random dimensions: give a sample count"));
    if (vj.contains("sample_seed")) {
      auto s = GetInt(vj, "sample_seed", path);
      if (!s.ok()) return fail(s.status());
      v.sample_seed = static_cast<uint64_t>(*s);
    }
    spec.variants.push_back(std::move(v));
  }
  if (spec.dataset.is_null()) {
    for (size_t i = 0; i < spec.variants.size(); ++i) {
      if (spec.variants[i].kind == JobKind::kCommand) continue;
      return fail(Invalid("dataset", fmt::format("missing: variant \"{}\" trains a built-in model, which needs "
                                                 "{{\"store\": DIR}} or {{\"synth\": {{...}}}}",
                                                 spec.variants[i].name)));
    }
  }

  auto seeds = GetMember(j, "seeds", "");
  if (!seeds.ok()) return fail(seeds.status());
  if ((*seeds)->is_number_integer()) {
    int64_t n = (*seeds)->get<int64_t>();
    if (n < 1 || n > 100000) return fail(Invalid("seeds", "a seed count must be in 1..100000"));
    for (int64_t s = 0; s < n; ++s) spec.seeds.push_back(static_cast<uint64_t>(s));
  } else if ((*seeds)->is_array() && !(*seeds)->empty()) {
    std::set<uint64_t> seen;
    for (size_t i = 0; i < (*seeds)->size(); ++i) {
      const Json& s = (**seeds)[i];
      if (!s.is_number_integer() || s.get<int64_t>() < 0) return fail(Invalid(JoinJsonPath("seeds", i), "expected a non-negative integer, got " + DescribeJson(s)));
      if (!seen.insert(s.get<uint64_t>()).second) return fail(Invalid(JoinJsonPath("seeds", i), "seed listed twice"));
      spec.seeds.push_back(s.get<uint64_t>());
    }
  } else {
    return fail(Invalid("seeds", "expected a count such as 20 or a list of seeds, got " + DescribeJson(**seeds)));
  }

  if (j.contains("partitions")) {
    spec.partitions.clear();
    const Json& p = j["partitions"];
    if (!p.is_array() || p.empty()) return fail(Invalid("partitions", "expected a non-empty list"));
    for (size_t i = 0; i < p.size(); ++i) {
      if (!p[i].is_number_integer() || p[i].get<int>() < 1) return fail(Invalid(JoinJsonPath("partitions", i), "expected a partition number >= 1"));
      spec.partitions.push_back(p[i].get<int>());
    }
  }
  for (auto [key, slot] : {std::pair<const char*, int*>{"max_attempts", &spec.max_attempts}, {"priority", &spec.priority}}) {
    if (!j.contains(key)) continue;
    auto v = GetInt(j, key, "");
    if (!v.ok()) return fail(v.status());
    *slot = static_cast<int>(*v);
  }
  if (spec.max_attempts < 1) return fail(Invalid("max_attempts", "must be at least 1"));
  if (j.contains("sleep_seconds")) {
    auto v = GetNumber(j, "sleep_seconds", "");
    if (!v.ok()) return fail(v.status());
    if (!(*v >= 0 && *v <= 86400)) return fail(Invalid("sleep_seconds", "expected 0 to 86400 seconds"));
    if (spec.kind != JobKind::kSleep) return fail(Invalid("sleep_seconds", "only for \"kind\": \"sleep\""));
    spec.sleep_seconds = *v;
  }
  if (j.contains("checkpoint_dir")) {
    auto dir = GetString(j, "checkpoint_dir", "");
    if (!dir.ok()) return fail(dir.status());
    if (dir->empty()) return fail(Invalid("checkpoint_dir", "expected a folder every worker can reach"));
    spec.checkpoint_dir = *dir;
  }
  if (j.contains("alpha")) {
    auto a = GetNumber(j, "alpha", "");
    if (!a.ok()) return fail(a.status());
    if (!(*a > 0 && *a < 1)) return fail(Invalid("alpha", "must be in (0, 1)"));
    spec.alpha = *a;
  }
  if (j.contains("sequential")) {
    auto s = ParseSequentialSweep(j["sequential"], spec.alpha, static_cast<int>(spec.seeds.size()),
                                  static_cast<int>(spec.partitions.size()));
    if (!s.ok()) return fail(s.status());
    spec.sequential = *s;
  }
  if (j.contains("resources")) {
    spec.resources = j["resources"];
    if (auto r = ParseJobResources(spec.resources, "resources"); !r.ok()) return fail(r.status());
  }
  if (j.contains("comparisons")) {
    const Json& cs = j["comparisons"];
    if (!cs.is_array()) return fail(Invalid("comparisons", "expected a list"));
    for (size_t i = 0; i < cs.size(); ++i) {
      const std::string path = JoinJsonPath("comparisons", i);
      if (!cs[i].is_object()) return fail(Invalid(path, "expected an object"));
      if (Status s = CheckKeys(cs[i], path, {"variant", "baselines", "metric", "direction", "min_effect", "point"}); !s.ok()) return fail(s);
      Comparison c;
      auto v = GetString(cs[i], "variant", path);
      if (!v.ok()) return fail(v.status());
      c.variant = *v;
      if (!names.count(c.variant)) return fail(Invalid(JoinJsonPath(path, "variant"), fmt::format("no variant named \"{}\"", c.variant)));
      auto b = GetMember(cs[i], "baselines", path);
      if (!b.ok()) return fail(b.status());
      if (!(*b)->is_array() || (*b)->empty()) return fail(Invalid(JoinJsonPath(path, "baselines"), "expected a non-empty list of variant names"));
      for (size_t k = 0; k < (*b)->size(); ++k) {
        const Json& bn = (**b)[k];
        const std::string bpath = JoinJsonPath(JoinJsonPath(path, "baselines"), k);
        if (!bn.is_string() || !names.count(bn.get<std::string>())) return fail(Invalid(bpath, "no variant named " + DescribeJson(bn)));
        if (bn.get<std::string>() == c.variant) return fail(Invalid(bpath, "a variant cannot be its own baseline"));
        c.baselines.push_back(bn.get<std::string>());
      }
      if (cs[i].contains("metric")) {
        auto m = GetString(cs[i], "metric", path);
        if (!m.ok()) return fail(m.status());
        c.metric = *m;
      }
      if (cs[i].contains("direction")) {
        auto d = GetString(cs[i], "direction", path);
        if (!d.ok()) return fail(d.status());
        if (*d != "greater" && *d != "less") return fail(Invalid(JoinJsonPath(path, "direction"), "expected \"greater\" or \"less\""));
        c.direction = *d;
      }
      if (cs[i].contains("min_effect")) {
        const Json& m = cs[i]["min_effect"];
        if (!m.is_number() || !(m.get<double>() > 0)) {
          return fail(Invalid(JoinJsonPath(path, "min_effect"), "expected a positive number (in the metric's units), got " + DescribeJson(m)));
        }
        c.min_effect = m.get<double>();
      }
      if (cs[i].contains("point")) {
        auto point = GetString(cs[i], "point", path);
        if (!point.ok()) return fail(point.status());
        const auto v = std::find_if(spec.variants.begin(), spec.variants.end(),
                                    [&](const SweepVariant& sv) { return sv.name == c.variant; });
        if (v->space.empty()) {
          return fail(Invalid(JoinJsonPath(path, "point"),
                              fmt::format("\"{}\" has no space: only a swept variant has points", c.variant)));
        }
        c.point = *point;  // checked against the variant's points when the sweep expands
      }
      spec.comparisons.push_back(std::move(c));
    }
  }
  return spec;
}

Json ResolveSpecPaths(Json spec, const std::string& spec_dir) {
  auto resolve = [&](Json* program) {
    if (!program->is_object() || !program->contains("workdir") || !(*program)["workdir"].is_string()) return;
    const std::string dir = (*program)["workdir"].get<std::string>();
    if (dir.empty() || dir[0] == '/') return;
    (*program)["workdir"] = (std::filesystem::absolute(spec_dir.empty() ? "." : spec_dir) / dir).lexically_normal().string();
  };
  if (!spec.is_object()) return spec;
  if (spec.contains("program")) resolve(&spec["program"]);
  if (spec.contains("variants") && spec["variants"].is_array()) {
    for (Json& v : spec["variants"]) {
      if (v.is_object() && v.contains("program")) resolve(&v["program"]);
    }
  }
  return spec;
}

Result<Json> ReadSweepSpecJson(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(Json j, ReadJsonFile(path));
  return ResolveSpecPaths(std::move(j), std::filesystem::path(path).parent_path().string());
}

Result<SweepSpec> ReadSweepSpec(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(Json j, ReadSweepSpecJson(path));
  return ParseSweepSpec(j, path);
}

double CountSweepJobs(const SweepSpec& spec) {
  double total = 0;
  for (const SweepVariant& v : spec.variants) {
    double points = 1;
    bool random = false;
    for (const SpaceDim& d : v.space) {
      if (d.kind == SpaceKind::kGrid) points *= static_cast<double>(d.values.size());
      else random = true;
    }
    if (random) points *= v.samples;
    total += points * static_cast<double>(spec.seeds.size()) * static_cast<double>(spec.partitions.size());
  }
  return total;
}

Result<std::vector<ExpandedJob>> ExpandSweep(const SweepSpec& spec) {
  // Refuse before building anything: a grid's cross product grows fast.
  const double total = CountSweepJobs(spec);
  if (total > kMaxSweepJobs) {
    return Status::InvalidArgument(fmt::format(
        "the sweep expands to {:.0f} jobs, more than the {} one sweep may hold: fewer grid values, samples or seeds",
        total, kMaxSweepJobs));
  }
  // Points per variant: the grid's cross product, times the random samples.
  struct Point {
    std::string label;
    std::vector<std::pair<std::string, Json>> values;
  };
  std::vector<std::vector<Point>> points(spec.variants.size());
  for (size_t vi = 0; vi < spec.variants.size(); ++vi) {
    const SweepVariant& v = spec.variants[vi];
    std::vector<Point> grid(1);
    std::vector<const SpaceDim*> random_dims;
    for (const SpaceDim& d : v.space) {
      if (d.kind != SpaceKind::kGrid) {
        random_dims.push_back(&d);
        continue;
      }
      std::vector<Point> next;
      for (const Point& p : grid) {
        for (const Json& value : d.values) {
          Point q = p;
          q.values.emplace_back(d.path, value);
          next.push_back(q);
        }
      }
      grid = std::move(next);
    }
    const int samples = random_dims.empty() ? 1 : v.samples;
    Rng rng(DeriveSeed(v.sample_seed, "sweep-space:" + v.name));
    for (int s = 0; s < samples; ++s) {
      std::vector<std::pair<std::string, Json>> drawn;
      for (const SpaceDim* d : random_dims) {
        Json value;
        if (d->kind == SpaceKind::kUniform) value = d->lo + (d->hi - d->lo) * rng.Uniform();
        else if (d->kind == SpaceKind::kLogUniform) value = std::exp(std::log(d->lo) + (std::log(d->hi) - std::log(d->lo)) * rng.Uniform());
        else if (d->kind == SpaceKind::kInt) value = static_cast<int64_t>(d->lo) + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(d->hi - d->lo) + 1));
        else value = d->values[rng.Below(d->values.size())];
        drawn.emplace_back(d->path, value);
      }
      for (const Point& g : grid) {
        Point p = g;
        p.values.insert(p.values.end(), drawn.begin(), drawn.end());
        std::sort(p.values.begin(), p.values.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [path, value] : p.values) p.label += (p.label.empty() ? "" : ",") + path + "=" + value.dump();
        points[vi].push_back(std::move(p));
      }
    }
  }

  // A comparison naming a point must name one of its variant's.
  for (size_t ci = 0; ci < spec.comparisons.size(); ++ci) {
    const Comparison& c = spec.comparisons[ci];
    if (c.point.empty()) continue;
    for (size_t vi = 0; vi < spec.variants.size(); ++vi) {
      if (spec.variants[vi].name != c.variant) continue;
      std::string labels;
      bool found = false;
      for (const Point& p : points[vi]) {
        found |= p.label == c.point;
        if (labels.size() < 300) labels += (labels.empty() ? "" : "; ") + p.label;
      }
      if (!found) {
        return Invalid(JoinJsonPath(JoinJsonPath("comparisons", ci), "point"),
                       fmt::format("\"{}\" has no point \"{}\"; its points (avctl sweep expand): {}", c.variant,
                                   c.point, labels));
      }
    }
  }

  // A command job's result must carry the metric of every comparison its
  // variant is in; the worker checks it when the program exits.
  std::vector<std::vector<std::string>> required_metrics(spec.variants.size());
  for (size_t vi = 0; vi < spec.variants.size(); ++vi) {
    std::set<std::string> metrics;
    for (const Comparison& c : spec.comparisons) {
      const bool in = c.variant == spec.variants[vi].name ||
                      std::count(c.baselines.begin(), c.baselines.end(), spec.variants[vi].name) > 0;
      if (in) metrics.insert(c.metric);
    }
    required_metrics[vi].assign(metrics.begin(), metrics.end());
  }
  // One configuration per variant, point and partition, built and checked
  // once: a job differs from it only in its seed and key, which the spec's
  // own checks already cover (seeds are non-negative integers).
  std::vector<std::vector<std::vector<Json>>> templates(spec.variants.size());
  for (size_t vi = 0; vi < spec.variants.size(); ++vi) {
    const SweepVariant& v = spec.variants[vi];
    for (const Point& p : points[vi]) {
      std::vector<Json>& per_partition = templates[vi].emplace_back();
      for (int partition : spec.partitions) {
        Json job = JobBase(spec, v);
        for (const auto& [path, value] : p.values) SetPath(&job, path, value);
        job["seed"] = spec.seeds.front();
        job["partition"] = partition;
        const std::string key = fmt::format("{}/{}/{}/seed={}/partition={}", spec.name, v.name,
                                            p.label.empty() ? "-" : p.label, spec.seeds.front(), partition);
        job["key"] = key;
        if (!spec.checkpoint_dir.empty()) job["checkpoint_dir"] = spec.checkpoint_dir;
        if (v.kind == JobKind::kCommand) {
          if (!required_metrics[vi].empty()) job["require_metrics"] = required_metrics[vi];
          if (auto check = CommandJobFromJson(job, spec.name); !check.ok()) {
            return Reroot(check.status(), JoinJsonPath(JoinJsonPath("variants", vi), "program"))
                .Annotate(fmt::format("job {}", key));
          }
        } else if (auto check = JobConfigFromJson(job, spec.name); !check.ok()) {
          return Reroot(check.status(), JoinJsonPath(JoinJsonPath("variants", vi), "space"))
              .Annotate(fmt::format("job {}", key));
        }
        per_partition.push_back(std::move(job));
      }
    }
  }
  std::vector<ExpandedJob> jobs;
  jobs.reserve(static_cast<size_t>(total));
  for (size_t si = 0; si < spec.seeds.size(); ++si) {
    const uint64_t seed = spec.seeds[si];
    const int stage = spec.sequential ? StageOfSeed(spec.sequential->design, static_cast<int>(si),
                                                    static_cast<int>(spec.partitions.size()))
                                      : 0;
    for (size_t pa = 0; pa < spec.partitions.size(); ++pa) {
      const int partition = spec.partitions[pa];
      for (size_t vi = 0; vi < spec.variants.size(); ++vi) {
        const SweepVariant& v = spec.variants[vi];
        for (size_t pi = 0; pi < points[vi].size(); ++pi) {
          const Point& p = points[vi][pi];
          ExpandedJob e;
          e.kind = v.kind;
          e.variant = v.name;
          e.point = p.label;
          e.seed = seed;
          e.partition = partition;
          e.stage = stage;
          e.key = fmt::format("{}/{}/{}/seed={}/partition={}", spec.name, v.name, p.label.empty() ? "-" : p.label,
                              seed, partition);
          e.job = templates[vi][pi][pa];
          e.job["seed"] = seed;
          e.job["key"] = e.key;
          jobs.push_back(std::move(e));
        }
      }
    }
  }
  return jobs;
}

std::string RenderExpansion(const SweepSpec& spec, const std::vector<ExpandedJob>& jobs) {
  std::map<std::string, std::pair<std::set<std::string>, int>> per_variant;
  for (const auto& j : jobs) {
    per_variant[j.variant].first.insert(j.point);
    per_variant[j.variant].second++;
  }
  std::string out = fmt::format("sweep {}: {} jobs = variants x points x {} seed(s) x {} partition(s)\n\n", spec.name,
                                jobs.size(), spec.seeds.size(), spec.partitions.size());
  out += fmt::format("{:<24} {:<9} {:<22} {:>7} {:>6}\n", "variant", "role", "model", "points", "jobs");
  for (const auto& v : spec.variants) {
    const auto& pv = per_variant[v.name];
    out += fmt::format("{:<24} {:<9} {:<22} {:>7} {:>6}\n", v.name, v.role, v.variant, pv.first.size(), pv.second);
  }
  if (!jobs.empty()) out += fmt::format("\nfirst job: {}\n", jobs.front().key);
  return out;
}

}  // namespace avctl
