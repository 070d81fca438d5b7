#include "store/store_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/float16.h"
#include "common/version.h"

namespace avctl {

namespace fs = std::filesystem;

// Shifted sums (x - shift) and squares in double, per partition, over the
// frames of that partition's Train clips. Shifting by the first frame keeps
// the variance accurate when a dimension's mean is large against its spread.
struct StoreWriter::Accumulator {
  struct Sums {
    int64_t frames = 0;
    std::vector<double> s1, s2;
  };
  std::vector<double> audio_shift, visual_shift;
  bool has_shift = false;
  std::vector<Sums> audio, visual;        // per partition
  std::vector<double> clip_s1, clip_s2;   // scratch for one clip

  void AddClip(const float* x, int64_t frames, int64_t dim, const std::vector<double>& shift,
               const std::vector<Split>& splits, std::vector<Sums>* per_partition) {
    clip_s1.assign(dim, 0.0);
    clip_s2.assign(dim, 0.0);
    for (int64_t t = 0; t < frames; ++t) {
      const float* row = x + t * dim;
      for (int64_t d = 0; d < dim; ++d) {
        double v = static_cast<double>(row[d]) - shift[d];
        clip_s1[d] += v;
        clip_s2[d] += v * v;
      }
    }
    for (size_t p = 0; p < splits.size(); ++p) {
      if (splits[p] != Split::kTrain) continue;
      Sums& s = (*per_partition)[p];
      s.frames += frames;
      for (int64_t d = 0; d < dim; ++d) {
        s.s1[d] += clip_s1[d];
        s.s2[d] += clip_s2[d];
      }
    }
  }

  static void Finalize(const Sums& s, const std::vector<double>& shift, std::vector<float>* mean,
                       std::vector<float>* stdev) {
    const size_t dim = shift.size();
    mean->assign(dim, 0.0f);
    stdev->assign(dim, 1.0f);
    if (s.frames == 0) return;
    const double n = static_cast<double>(s.frames);
    for (size_t d = 0; d < dim; ++d) {
      double m1 = s.s1[d] / n;
      double var = std::max(0.0, s.s2[d] / n - m1 * m1);
      double sd = std::sqrt(var);
      (*mean)[d] = static_cast<float>(shift[d] + m1);
      (*stdev)[d] = sd < 1e-6 ? 1.0f : static_cast<float>(sd);
    }
  }
};

StoreWriter::StoreWriter(std::string out_dir, std::string tmp_dir, StoreLayout layout, bool overwrite)
    : out_dir_(std::move(out_dir)), tmp_dir_(std::move(tmp_dir)), layout_(std::move(layout)), overwrite_(overwrite),
      acc_(std::make_unique<Accumulator>()) {
  const size_t np = layout_.partitions.size();
  acc_->audio.resize(np);
  acc_->visual.resize(np);
  for (size_t p = 0; p < np; ++p) {
    acc_->audio[p].s1.assign(layout_.audio_dim, 0.0);
    acc_->audio[p].s2.assign(layout_.audio_dim, 0.0);
    acc_->visual[p].s1.assign(layout_.visual_dim, 0.0);
    acc_->visual[p].s2.assign(layout_.visual_dim, 0.0);
  }
}

StoreWriter::~StoreWriter() {
  if (audio_file_ != nullptr) std::fclose(audio_file_);
  if (visual_file_ != nullptr) std::fclose(visual_file_);
  if (!finished_ && !tmp_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(tmp_dir_, ec);  // best effort: a leftover .tmp-* directory never opens as a store
  }
}

Result<std::unique_ptr<StoreWriter>> StoreWriter::Create(const std::string& out_dir, const StoreLayout& layout,
                                                         bool overwrite) {
  if (out_dir.empty()) return Status::InvalidArgument("empty output directory").WithField("--out");
  if (layout.audio_dim <= 0 || layout.visual_dim < 0) {
    return Status::InvalidArgument(fmt::format("dimensions must be positive (audio {}, visual {}; visual 0: audio only)",
                                               layout.audio_dim, layout.visual_dim));
  }
  if (layout.partitions.empty()) return Status::InvalidArgument("a store needs at least one partition");
  std::error_code ec;
  if (fs::exists(out_dir, ec)) {
    if (!overwrite) {
      return Status::AlreadyExists("output directory exists (use --force to replace a store)").WithFile(out_dir);
    }
    bool is_store = fs::exists(fs::path(out_dir) / kManifestFile, ec);
    bool is_empty = fs::is_directory(out_dir, ec) && fs::is_empty(out_dir, ec);
    if (!is_store && !is_empty) {
      return Status::FailedPrecondition("refusing to replace a directory that is neither empty nor a feature store")
          .WithFile(out_dir);
    }
  }
  fs::path parent = fs::path(out_dir).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) return Status::IOError("cannot create parent directory: " + ec.message()).WithFile(parent.string());
  }
  AVCTL_ASSIGN_OR_RETURN(std::string tmp, MakeSiblingTempDir(out_dir));
  std::unique_ptr<StoreWriter> w(new StoreWriter(out_dir, tmp, layout, overwrite));
  AVCTL_RETURN_IF_ERROR(w->OpenFiles());
  return w;
}

Status StoreWriter::OpenFiles() {
  std::string audio_path = (fs::path(tmp_dir_) / kAudioFile).string();
  std::string visual_path = (fs::path(tmp_dir_) / kVisualFile).string();
  audio_file_ = std::fopen(audio_path.c_str(), "wb");
  if (audio_file_ == nullptr) return Status::FromErrno("cannot create", errno).WithFile(audio_path);
  std::setvbuf(audio_file_, nullptr, _IOFBF, 1 << 20);
  if (layout_.visual_dim == 0) return Status::OK();  // audio only: no visual array
  visual_file_ = std::fopen(visual_path.c_str(), "wb");
  if (visual_file_ == nullptr) return Status::FromErrno("cannot create", errno).WithFile(visual_path);
  std::setvbuf(visual_file_, nullptr, _IOFBF, 4 << 20);
  return Status::OK();
}

Status StoreWriter::WriteBytes(std::FILE* f, Checksummer* sum, const void* data, size_t size,
                               const std::string& path) {
  if (std::fwrite(data, 1, size, f) != size) return Status::FromErrno("write failed", errno).WithFile(path);
  sum->Update(data, size);
  return Status::OK();
}

Status StoreWriter::AddClip(ClipRecord clip, const float* audio, int64_t audio_frames, const float* visual,
                            int64_t visual_frames) {
  if (finished_) return Status::FailedPrecondition("AddClip after Finish");
  if (clip.splits.size() != layout_.partitions.size()) {
    return Status::InvalidArgument(fmt::format("clip {} has {} splits for {} partitions", clip.id, clip.splits.size(),
                                               layout_.partitions.size()));
  }
  const int classes = static_cast<int>(layout_.classes.size());
  if (clip.soft.size() != layout_.classes.size() || clip.label < 0 || clip.label >= classes || clip.intended < 0 ||
      clip.intended >= classes) {
    return Status::InvalidArgument(fmt::format("clip {}: {} soft labels, label {} and intended class {} for a store of "
                                               "{} classes",
                                               clip.id, clip.soft.size(), clip.label, clip.intended, classes));
  }
  const bool has_visual = layout_.visual_dim > 0;
  if (audio_frames <= 0 || (has_visual ? visual_frames <= 0 : visual_frames != 0)) {
    return Status::InvalidArgument(fmt::format(has_visual ? "clip {} has {} audio and {} visual frames; both must be positive"
                                                          : "clip {} has {} audio and {} visual frames in an audio-only store",
                                               clip.id, audio_frames, visual_frames));
  }
  const int64_t da = layout_.audio_dim, dv = layout_.visual_dim;
  for (int64_t i = 0; i < audio_frames * da; ++i) {
    if (!std::isfinite(audio[i])) {
      return Status::InvalidArgument(fmt::format("clip {}: audio value at frame {} dimension {} is {}", clip.id, i / da,
                                                 i % da, audio[i]));
    }
  }
  for (int64_t i = 0; i < visual_frames * dv; ++i) {
    if (!std::isfinite(visual[i]) || std::fabs(visual[i]) > 65504.0f) {
      return Status::InvalidArgument(fmt::format(
          "clip {}: visual value at frame {} dimension {} is {} (float16 holds finite values up to 65504)", clip.id,
          i / dv, i % dv, visual[i]));
    }
  }

  // The first clip fixes the shift used by the statistics.
  if (!acc_->has_shift) {
    acc_->audio_shift.assign(audio, audio + da);
    acc_->visual_shift.resize(dv);
    for (int64_t d = 0; d < dv; ++d) acc_->visual_shift[d] = HalfToFloat(FloatToHalf(visual[d]));
    acc_->has_shift = true;
  }

  const std::string audio_path = (fs::path(tmp_dir_) / kAudioFile).string();
  const std::string visual_path = (fs::path(tmp_dir_) / kVisualFile).string();
  AVCTL_RETURN_IF_ERROR(WriteBytes(audio_file_, &audio_sum_, audio, sizeof(float) * audio_frames * da, audio_path));
  const size_t nv = static_cast<size_t>(visual_frames * dv);
  half_buf_.resize(nv);
  dequant_buf_.resize(nv);
  FloatsToHalves(visual, half_buf_.data(), nv);
  HalvesToFloats(half_buf_.data(), dequant_buf_.data(), nv);  // statistics describe the stored values
  if (has_visual) {
    AVCTL_RETURN_IF_ERROR(WriteBytes(visual_file_, &visual_sum_, half_buf_.data(), nv * sizeof(uint16_t), visual_path));
  }

  acc_->AddClip(audio, audio_frames, da, acc_->audio_shift, clip.splits, &acc_->audio);
  acc_->AddClip(dequant_buf_.data(), visual_frames, dv, acc_->visual_shift, clip.splits, &acc_->visual);

  clip.audio_offset = audio_frames_;
  clip.audio_frames = audio_frames;
  clip.visual_offset = visual_frames_;
  clip.visual_frames = visual_frames;
  audio_frames_ += audio_frames;
  visual_frames_ += visual_frames;
  clips_.push_back(std::move(clip));
  return Status::OK();
}

Status StoreWriter::WriteNormStats(NormStatsInfo* info) {
  const int64_t da = layout_.audio_dim, dv = layout_.visual_dim;
  std::vector<float> out;
  out.reserve(layout_.partitions.size() * 2 * (da + dv));
  std::vector<float> mean, sd;
  for (size_t p = 0; p < layout_.partitions.size(); ++p) {
    Accumulator::Finalize(acc_->audio[p], acc_->audio_shift, &mean, &sd);
    out.insert(out.end(), mean.begin(), mean.end());
    out.insert(out.end(), sd.begin(), sd.end());
    Accumulator::Finalize(acc_->visual[p], acc_->visual_shift, &mean, &sd);
    out.insert(out.end(), mean.begin(), mean.end());
    out.insert(out.end(), sd.begin(), sd.end());
    info->train_audio_frames.push_back(acc_->audio[p].frames);
    info->train_visual_frames.push_back(acc_->visual[p].frames);
  }
  const size_t bytes = out.size() * sizeof(float);
  info->file = kNormStatsFile;
  info->bytes = static_cast<int64_t>(bytes);
  info->checksum = ChecksumBytes(out.data(), bytes);
  return WriteFileAtomic((fs::path(tmp_dir_) / kNormStatsFile).string(),
                         std::string_view(reinterpret_cast<const char*>(out.data()), bytes));
}

Status StoreWriter::Finish(bool synthetic, Json provenance) {
  if (finished_) return Status::FailedPrecondition("Finish called twice");
  if (clips_.empty()) return Status::InvalidArgument("no clips were added; refusing to write an empty store");
  if (!acc_->has_shift) return Status::Internal("statistics have no shift");

  for (std::FILE** f : {&audio_file_, &visual_file_}) {
    if (*f == nullptr) continue;  // audio only: no visual file
    const char* name = (*f == audio_file_) ? kAudioFile : kVisualFile;
    std::string path = (fs::path(tmp_dir_) / name).string();
    if (std::fflush(*f) != 0 || ::fsync(fileno(*f)) != 0) {
      return Status::FromErrno("flush failed", errno).WithFile(path);
    }
    if (std::fclose(*f) != 0) {
      *f = nullptr;
      return Status::FromErrno("close failed", errno).WithFile(path);
    }
    *f = nullptr;
  }

  Manifest m;
  m.created_by = std::string("avctl ") + CodeVersion();
  m.synthetic = synthetic;
  m.provenance = std::move(provenance);
  m.partitions = layout_.partitions;
  m.classes = layout_.classes;
  m.class_names = layout_.class_names;
  m.audio = {kAudioFile, DType::kFloat32, layout_.audio_dim, audio_frames_, layout_.audio_frame_rate_hz,
             audio_frames_ * layout_.audio_dim * 4, audio_sum_.Digest()};
  m.visual = {kVisualFile, DType::kFloat16, layout_.visual_dim, visual_frames_, layout_.visual_frame_rate_hz,
              visual_frames_ * layout_.visual_dim * 2, visual_sum_.Digest()};
  AVCTL_RETURN_IF_ERROR(WriteNormStats(&m.norm_stats));
  m.clips = std::move(clips_);
  clips_.clear();

  // Validate what we are about to publish with the same code that reads it.
  Json j = ManifestToJson(m);
  auto check = ManifestFromJson(j, (fs::path(tmp_dir_) / kManifestFile).string());
  if (!check.ok()) return Status::Internal("writer produced an invalid manifest: " + check.status().ToString());
  AVCTL_RETURN_IF_ERROR(WriteJsonFileAtomic((fs::path(tmp_dir_) / kManifestFile).string(), j));
  AVCTL_RETURN_IF_ERROR(Publish());
  finished_ = true;
  return Status::OK();
}

Status StoreWriter::Publish() {
  std::error_code ec;
  std::string parent = fs::path(out_dir_).parent_path().string();
  if (parent.empty()) parent = ".";
  if (fs::exists(out_dir_, ec)) {
    if (!overwrite_) return Status::AlreadyExists("output directory appeared while writing").WithFile(out_dir_);
    // Move the old store aside first, so a crash between the renames leaves
    // the new store in its temporary name and the old one intact.
    AVCTL_ASSIGN_OR_RETURN(std::string old_dir, MakeSiblingTempDir(out_dir_ + ".old"));
    fs::remove(old_dir, ec);
    fs::rename(out_dir_, old_dir, ec);
    if (ec) return Status::IOError("cannot move the old store aside: " + ec.message()).WithFile(out_dir_);
    fs::rename(tmp_dir_, out_dir_, ec);
    if (ec) {
      std::error_code ec2;
      fs::rename(old_dir, out_dir_, ec2);  // put the old store back
      return Status::IOError("cannot rename the new store into place: " + ec.message()).WithFile(out_dir_);
    }
    fs::remove_all(old_dir, ec);
  } else {
    fs::rename(tmp_dir_, out_dir_, ec);
    if (ec) return Status::IOError("cannot rename the new store into place: " + ec.message()).WithFile(out_dir_);
  }
  tmp_dir_.clear();
  return SyncDirectory(parent);
}

}  // namespace avctl
