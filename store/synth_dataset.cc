#include "store/synth_dataset.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <fmt/format.h>

#include "common/data_dir.h"

namespace avctl {

namespace fs = std::filesystem;

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
    } else if (key == "label_sharpness") {
      AVCTL_ASSIGN_OR_RETURN(o.label_sharpness, GetNumber(j, key, path));
      if (!(o.label_sharpness > 0)) return Status::InvalidArgument("expected a positive number").WithField(field);
    } else {
      return Status::InvalidArgument(
          "unknown field (expected profile, seed, clips_per_actor, audio_llds, visual_dim or label_sharpness)")
          .WithField(field);
    }
  }
  if (!j.contains("profile")) return Status::InvalidArgument("missing field").WithField(JoinJsonPath(path, "profile"));
  return o;
}

std::string SynthCacheName(const SynthOptions& o) {
  return fmt::format("synth-{}-s{}-c{}-a{}-v{}-l{}", GetSynthProfileSpec(o.profile).name, o.seed, o.clips_per_actor,
                     o.audio_llds, o.visual_dim, o.label_sharpness);
}

Result<std::string> EnsureSynthStore(SynthOptions options, const std::string& cache_dir, Logger* log) {
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return Status::IOError(fmt::format("cannot create the store cache: {}", ec.message())).WithFile(cache_dir);
  const std::string name = SynthCacheName(options);
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
    options.label_files = DefaultLabelFiles();
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
