#include "store/feature_store.h"

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/checksum.h"

namespace avctl {

namespace fs = std::filesystem;

namespace {

Result<std::unique_ptr<MappedFile>> MapChecked(const std::string& dir, const std::string& name, int64_t bytes,
                                               const char* field) {
  std::string path = (fs::path(dir) / name).string();
  if (name.find('/') != std::string::npos || name == ".." || name.empty()) {
    return Status::Corruption(fmt::format("file name '{}' must be a plain name inside the store", name))
        .WithFile((fs::path(dir) / kManifestFile).string()).WithField(field);
  }
  AVCTL_ASSIGN_OR_RETURN(auto mapped, MappedFile::Open(path));
  if (static_cast<int64_t>(mapped->size()) != bytes) {
    return Status::Corruption(fmt::format("file holds {} bytes but the manifest says {} (truncated or replaced?)",
                                          mapped->size(), bytes))
        .WithFile(path).WithField(field);
  }
  return mapped;
}

Status CheckSum(const MappedFile& f, const std::string& expected, const char* field) {
  std::string actual = ChecksumBytes(f.data(), f.size());
  if (actual != expected) {
    return Status::Corruption(fmt::format("checksum {} does not match the manifest's {}", actual, expected))
        .WithFile(f.path()).WithField(field);
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<FeatureStore>> FeatureStore::Open(const std::string& dir, const Options& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("feature store directory does not exist").WithFile(dir);
  std::string manifest_path = (fs::path(dir) / kManifestFile).string();
  if (!fs::exists(manifest_path, ec)) {
    return Status::NotFound("no manifest.json: not a feature store (or an unfinished one)").WithFile(manifest_path);
  }
  AVCTL_ASSIGN_OR_RETURN(Json j, ReadJsonFile(manifest_path));

  std::unique_ptr<FeatureStore> store(new FeatureStore());
  store->dir_ = dir;
  AVCTL_ASSIGN_OR_RETURN(store->manifest_, ManifestFromJson(j, manifest_path));
  const Manifest& m = store->manifest_;
  AVCTL_ASSIGN_OR_RETURN(store->audio_, MapChecked(dir, m.audio.file, m.audio.bytes, "audio"));
  if (m.has_visual()) {
    AVCTL_ASSIGN_OR_RETURN(store->visual_, MapChecked(dir, m.visual.file, m.visual.bytes, "visual"));
  }
  AVCTL_ASSIGN_OR_RETURN(store->stats_, MapChecked(dir, m.norm_stats.file, m.norm_stats.bytes, "norm_stats"));
  if (options.verify_checksums) AVCTL_RETURN_IF_ERROR(store->VerifyChecksums());
  return store;
}

Status FeatureStore::VerifyChecksums() const {
  AVCTL_RETURN_IF_ERROR(CheckSum(*stats_, manifest_.norm_stats.checksum, "norm_stats.checksum"));
  AVCTL_RETURN_IF_ERROR(CheckSum(*audio_, manifest_.audio.checksum, "audio.checksum"));
  if (visual_) AVCTL_RETURN_IF_ERROR(CheckSum(*visual_, manifest_.visual.checksum, "visual.checksum"));
  return Status::OK();
}

const float* FeatureStore::audio(size_t i) const {
  return reinterpret_cast<const float*>(audio_->data()) + clip(i).audio_offset * audio_dim();
}

const uint16_t* FeatureStore::visual(size_t i) const {
  if (!visual_) return nullptr;
  return reinterpret_cast<const uint16_t*>(visual_->data()) + clip(i).visual_offset * visual_dim();
}

Result<NormStatsView> FeatureStore::norm_stats(int partition) const {
  int p = manifest_.PartitionIndex(partition);
  if (p < 0) {
    return Status::NotFound(fmt::format("partition {} is not in this store (it has {})", partition,
                                        fmt::join(manifest_.partitions, ", ")))
        .WithFile(dir_);
  }
  const float* base = reinterpret_cast<const float*>(stats_->data()) + p * 2 * (audio_dim() + visual_dim());
  NormStatsView v;
  v.audio_mean = base;
  v.audio_std = base + audio_dim();
  v.visual_mean = base + 2 * audio_dim();
  v.visual_std = base + 2 * audio_dim() + visual_dim();
  return v;
}

Result<std::vector<size_t>> FeatureStore::ClipsInSplit(int partition, Split split) const {
  int p = manifest_.PartitionIndex(partition);
  if (p < 0) {
    return Status::NotFound(fmt::format("partition {} is not in this store (it has {})", partition,
                                        fmt::join(manifest_.partitions, ", ")))
        .WithFile(dir_);
  }
  std::vector<size_t> out;
  for (size_t i = 0; i < num_clips(); ++i)
    if (clip(i).splits[p] == split) out.push_back(i);
  return out;
}

}  // namespace avctl
