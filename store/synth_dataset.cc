#include "store/synth_dataset.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <fmt/format.h>

#include "common/checksum.h"
#include "common/data_dir.h"

namespace avctl {

namespace fs = std::filesystem;

namespace {

Result<std::vector<std::string>> StringList(const Json& j, const std::string& field, bool allow_empty) {
  if (!j.is_array() || (!allow_empty && j.empty())) {
    return Status::InvalidArgument("expected a list of strings, got " + DescribeJson(j)).WithField(field);
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string() || j[i].get<std::string>().empty()) {
      return Status::InvalidArgument("expected a non-empty string, got " + DescribeJson(j[i]))
          .WithField(JoinJsonPath(field, i));
    }
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

// {"files": [...], "format": "generic", "group_column": ..., "classes": [...], ...}
Status LabelsFromJson(const Json& j, const std::string& path, SynthOptions* o) {
  if (!j.is_object()) {
    return Status::InvalidArgument("expected an object such as {\"files\": [\"labels.csv\"], \"format\": \"generic\"}, got " +
                                   DescribeJson(j))
        .WithField(path);
  }
  LabelSourceOptions& l = o->labels;
  for (const auto& [key, value] : j.items()) {
    const std::string field = JoinJsonPath(path, key);
    if (key == "files") {
      AVCTL_ASSIGN_OR_RETURN(o->label_files, StringList(value, field, false));
    } else if (key == "format") {
      AVCTL_ASSIGN_OR_RETURN(std::string name, GetString(j, key, path));
      auto f = ParseLabelFormat(name);
      if (!f.ok()) return Status::InvalidArgument(f.status().message()).WithField(field);
      l.format = *f;
    } else if (key == "clip_column" || key == "group_column" || key == "label_column" || key == "gender_column" ||
               key == "split_column") {
      AVCTL_ASSIGN_OR_RETURN(std::string v, GetString(j, key, path));
      (key == "clip_column"    ? l.clip_column
       : key == "group_column" ? l.group_column
       : key == "label_column" ? l.label_column
       : key == "gender_column" ? l.gender_column
                                : l.split_column) = v;
    } else if (key == "classes") {
      AVCTL_ASSIGN_OR_RETURN(l.classes, StringList(value, field, false));
    } else if (key == "class_names") {
      AVCTL_ASSIGN_OR_RETURN(l.class_names, StringList(value, field, false));
    } else if (key == "merge") {
      if (!value.is_object()) {
        return Status::InvalidArgument("expected an object {\"label\": \"class\"}, got " + DescribeJson(value)).WithField(field);
      }
      for (const auto& [from, to] : value.items()) {
        if (!to.is_string()) return Status::InvalidArgument("expected a class name").WithField(JoinJsonPath(field, from));
        l.merge.emplace_back(from, to.get<std::string>());
      }
    } else if (key == "soft_columns") {
      AVCTL_ASSIGN_OR_RETURN(l.soft_columns, GetBool(j, key, path));
    } else if (key == "msp_test_set") {
      AVCTL_ASSIGN_OR_RETURN(l.msp_test_set, GetString(j, key, path));
      if (l.msp_test_set != "Test1" && l.msp_test_set != "Test2" && l.msp_test_set != "Test3") {
        return Status::InvalidArgument("expected Test1, Test2 or Test3").WithField(field);
      }
    } else {
      return Status::InvalidArgument(
                 "unknown field (expected files, format, clip_column, group_column, label_column, gender_column, "
                 "split_column, classes, class_names, merge, soft_columns or msp_test_set)")
          .WithField(field);
    }
  }
  if (o->label_files.empty()) return Status::InvalidArgument("missing field").WithField(JoinJsonPath(path, "files"));
  if (l.format == LabelFormat::kCremaD && (!l.classes.empty() || !l.merge.empty())) {
    return Status::InvalidArgument("a class subset or merge needs \"format\": \"generic\" or \"msp-podcast\"")
        .WithField(JoinJsonPath(path, "format"));
  }
  if (j.contains("msp_test_set") && l.format != LabelFormat::kMspPodcast) {
    return Status::InvalidArgument("a test set is chosen only in an MSP-Podcast file (\"format\": \"msp-podcast\")")
        .WithField(JoinJsonPath(path, "msp_test_set"));
  }
  return Status::OK();
}

// A label file of a synth dataset: absolute as given; relative, under the
// shipped data folder (the parent of DefaultDataDir(), "data/"), so a spec
// can name "examples/four_class_labels.csv" on every worker.
std::string ResolveLabelFile(const std::string& file) {
  if (fs::path(file).is_absolute()) return file;
  return (fs::path(DefaultDataDir()).parent_path() / file).string();
}

}  // namespace

Result<SynthOptions> SynthOptionsFromJson(const Json& j, const std::string& path) {
  if (!j.is_object()) {
    return Status::InvalidArgument(fmt::format("expected an object such as {{\"profile\": \"tiny\", \"seed\": 1}}, "
                                               "got {}", DescribeJson(j))).WithField(path);
  }
  SynthOptions o;
  for (const auto& [key, value] : j.items()) {
    const std::string field = JoinJsonPath(path, key);
    if (key == "profile") {
      AVCTL_ASSIGN_OR_RETURN(std::string name, GetString(j, key, path));
      auto p = ParseSynthProfile(name);
      if (!p.ok()) return Status::InvalidArgument(p.status().message()).WithField(field);
      o.profile = *p;
    } else if (key == "seed") {
      AVCTL_ASSIGN_OR_RETURN(int64_t seed, GetInt(j, key, path));
      if (seed < 0) return Status::InvalidArgument("expected a non-negative seed").WithField(field);
      o.seed = static_cast<uint64_t>(seed);
    } else if (key == "clips_per_actor" || key == "audio_llds" || key == "visual_dim") {
      AVCTL_ASSIGN_OR_RETURN(int64_t v, GetInt(j, key, path));
      if (v < (key == "clips_per_actor" ? 0 : 1) || v > 1 << 20) {
        return Status::InvalidArgument(fmt::format("out of range: {}", v)).WithField(field);
      }
      (key == "clips_per_actor" ? o.clips_per_actor : key == "audio_llds" ? o.audio_llds : o.visual_dim) =
          static_cast<int>(v);
    } else if (key == "labels") {
      AVCTL_RETURN_IF_ERROR(LabelsFromJson(value, field, &o));
    } else if (key == "audio_only") {
      AVCTL_ASSIGN_OR_RETURN(o.audio_only, GetBool(j, key, path));
    } else if (key == "label_sharpness") {
      AVCTL_ASSIGN_OR_RETURN(o.label_sharpness, GetNumber(j, key, path));
      if (!(o.label_sharpness > 0)) return Status::InvalidArgument("expected a positive number").WithField(field);
    } else {
      return Status::InvalidArgument(
          "unknown field (expected profile, seed, clips_per_actor, audio_llds, visual_dim, label_sharpness, labels or "
          "audio_only)")
          .WithField(field);
    }
  }
  if (!j.contains("profile")) return Status::InvalidArgument("missing field").WithField(JoinJsonPath(path, "profile"));
  if (o.audio_only && o.visual_dim != -1) {
    return Status::InvalidArgument("an audio-only store has no visual dimension").WithField(JoinJsonPath(path, "visual_dim"));
  }
  return o;
}

std::string SynthCacheName(const SynthOptions& o) {
  std::string name = fmt::format("synth-{}-s{}-c{}-a{}-v{}-l{}", GetSynthProfileSpec(o.profile).name, o.seed,
                                 o.clips_per_actor, o.audio_llds, o.visual_dim, o.label_sharpness);
  if (o.audio_only) name += "-audio";
  return name;
}

Result<std::string> SynthCacheNameWithLabels(const SynthOptions& o) {
  std::string name = SynthCacheName(o);
  if (o.label_files.empty()) return name;  // the shipped CREMA-D partitions
  // Other labels: the name also identifies their contents and how they are read.
  const LabelSourceOptions& l = o.labels;
  Json merge = Json::object();
  for (const auto& [from, to] : l.merge) merge[from] = to;
  Json key = {{"format", LabelFormatName(l.format)}, {"clip", l.clip_column}, {"group", l.group_column},
              {"label", l.label_column}, {"gender", l.gender_column}, {"split", l.split_column},
              {"classes", l.classes}, {"class_names", l.class_names}, {"merge", merge},
              {"soft", l.soft_columns}, {"files", Json::array()}};
  if (l.msp_test_set != "Test1") key["msp_test_set"] = l.msp_test_set;  // the default keeps the names stores had
  for (const auto& f : o.label_files) {
    AVCTL_ASSIGN_OR_RETURN(std::string sum, ChecksumFile(ResolveLabelFile(f)));
    key["files"].push_back(sum);
  }
  const std::string text = key.dump();
  const std::string sum = ChecksumBytes(text.data(), text.size());
  return name + "-" + sum.substr(sum.find(':') + 1);
}

Result<std::string> EnsureSynthStore(SynthOptions options, const std::string& cache_dir, Logger* log) {
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return Status::IOError(fmt::format("cannot create the store cache: {}", ec.message())).WithFile(cache_dir);
  AVCTL_ASSIGN_OR_RETURN(const std::string name, SynthCacheNameWithLabels(options));
  const std::string dir = (fs::path(cache_dir) / name).string();
  const std::string lock_path = (fs::path(cache_dir) / (name + ".lock")).string();
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot open the lock file", errno).WithFile(lock_path);
  if (::flock(fd, LOCK_EX) != 0) {
    Status s = Status::FromErrno("cannot lock", errno).WithFile(lock_path);
    ::close(fd);
    return s;
  }
  Status built = Status::OK();
  if (!fs::exists(fs::path(dir) / "manifest.json")) {
    options.out_dir = dir;
    if (options.label_files.empty()) {
      options.label_files = DefaultLabelFiles();
    } else {
      for (auto& f : options.label_files) f = ResolveLabelFile(f);
    }
    options.overwrite = true;
    if (log != nullptr) log->Info("synthesising the dataset {} into {}", name, dir);
    auto summary = SynthesizeStore(options, log);
    if (!summary.ok()) built = summary.status();
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  AVCTL_RETURN_IF_ERROR(built);
  return dir;
}

Result<std::string> ResolveDatasetStore(const Json& dataset, const std::string& cache_dir, Logger* log,
                                        const std::string& path) {
  if (dataset.is_object() && dataset.contains("store") && dataset["store"].is_string()) {
    return dataset["store"].get<std::string>();
  }
  if (dataset.is_object() && dataset.contains("synth")) {
    AVCTL_ASSIGN_OR_RETURN(SynthOptions synth, SynthOptionsFromJson(dataset["synth"], path + ".synth"));
    return EnsureSynthStore(synth, cache_dir, log);
  }
  return Status::InvalidArgument("expected {\"store\": DIR} or {\"synth\": {...}}").WithField(path);
}

}  // namespace avctl
