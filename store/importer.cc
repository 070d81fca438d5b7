#include "store/importer.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "common/parallel.h"
#include "features/npy.h"
#include "features/opensmile_csv.h"
#include "store/labels.h"
#include "store/store_writer.h"

namespace avctl {

namespace fs = std::filesystem;

std::string SummarizeMissing(const std::vector<std::string>& ids, const std::string& what, size_t show) {
  if (ids.empty()) return "";
  std::string out = fmt::format("{} clip(s) without {}: ", ids.size(), what);
  for (size_t i = 0; i < ids.size() && i < show; ++i) out += (i ? ", " : "") + ids[i];
  if (ids.size() > show) out += fmt::format(", ... ({} more)", ids.size() - show);
  return out;
}

namespace {

struct LoadedClip {
  Status status;
  LldTable audio;
  NpyArray visual;
};

Status CheckClip(const LoadedClip& c, const std::string& audio_path, const std::string& visual_path,
                 const std::vector<std::string>& lld_names, int64_t visual_dim, bool with_visual) {
  if (c.audio.lld_names != lld_names) {
    size_t i = 0;
    while (i < lld_names.size() && i < c.audio.lld_names.size() && lld_names[i] == c.audio.lld_names[i]) ++i;
    std::string expected = i < lld_names.size() ? lld_names[i] : "(none)";
    std::string found = i < c.audio.lld_names.size() ? c.audio.lld_names[i] : "(none)";
    return Status::InvalidArgument(fmt::format("LLD columns differ from the first file's: column {} is '{}', expected '{}'",
                                               i + 1, found, expected))
        .WithFile(audio_path).WithLine(1);
  }
  if (with_visual && (c.visual.shape.size() != 2 || static_cast<int64_t>(c.visual.shape[1]) != visual_dim)) {
    std::string shape;
    for (size_t i = 0; i < c.visual.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(c.visual.shape[i]);
    return Status::InvalidArgument(fmt::format("expected shape (frames, {}), got ({})", visual_dim, shape))
        .WithFile(visual_path).WithField("shape");
  }
  return Status::OK();
}

}  // namespace

Result<ImportReport> ImportStore(const ImportOptions& o, Logger* log) {
  if (!fs::is_directory(o.audio_dir)) return Status::NotFound("audio directory does not exist").WithFile(o.audio_dir);
  const bool with_visual = !o.visual_dir.empty();
  if (with_visual && !fs::is_directory(o.visual_dir)) {
    return Status::NotFound("visual directory does not exist").WithFile(o.visual_dir);
  }
  if (!(o.visual_fps > 0)) return Status::InvalidArgument("must be positive").WithField("--visual-fps");
  if (!(o.audio_step_ms > 0)) return Status::InvalidArgument("must be positive").WithField("--audio-step-ms");
  AVCTL_ASSIGN_OR_RETURN(Corpus corpus, LoadLabelSource(o.label_files, o.labels));

  ImportReport report;
  report.out_dir = o.out_dir;
  report.clips_listed = static_cast<int64_t>(corpus.clips.size());
  std::vector<size_t> present;
  for (size_t i = 0; i < corpus.clips.size(); ++i) {
    const std::string& id = corpus.clips[i].id;
    bool has_audio = fs::exists(fs::path(o.audio_dir) / (id + ".csv"));
    bool has_visual = !with_visual || fs::exists(fs::path(o.visual_dir) / (id + ".npy"));
    if (!has_audio) report.missing_audio.push_back(id);
    if (!has_visual) report.missing_visual.push_back(id);
    if (has_audio && has_visual) present.push_back(i);
  }
  if (!report.missing_audio.empty() || !report.missing_visual.empty()) {
    std::string summary = SummarizeMissing(report.missing_audio, "audio (" + o.audio_dir + "/<clip>.csv)");
    if (!report.missing_visual.empty()) {
      summary += (summary.empty() ? "" : "; ") + SummarizeMissing(report.missing_visual, "visual (" + o.visual_dir + "/<clip>.npy)");
    }
    if (!o.skip_missing) {
      return Status::NotFound(summary + "; nothing was written (--skip-missing imports the clips that are complete)");
    }
    log->Warn("import: {}", summary);
  }
  if (present.empty()) {
    return Status::NotFound(with_visual ? "no clip has both an audio and a visual file; nothing was written"
                                        : "no clip has an audio file; nothing was written");
  }

  const int threads = ResolveThreads(o.threads);
  const size_t block = static_cast<size_t>(threads) * 4;
  std::vector<LoadedClip> loaded(block);
  std::unique_ptr<StoreWriter> writer;
  std::vector<std::string> lld_names;
  int64_t visual_dim = 0;

  for (size_t start = 0; start < present.size(); start += block) {
    const size_t n = std::min(block, present.size() - start);
    ParallelFor(n, threads, [&](size_t i) {
      const std::string& id = corpus.clips[present[start + i]].id;
      LoadedClip& c = loaded[i];
      c.status = Status::OK();
      auto a = ReadOpenSmileLldCsv((fs::path(o.audio_dir) / (id + ".csv")).string());
      if (!a.ok()) {
        c.status = a.status();
        return;
      }
      c.audio = std::move(a).value();
      if (!with_visual) return;
      auto v = ReadNpyFile((fs::path(o.visual_dir) / (id + ".npy")).string());
      if (!v.ok()) {
        c.status = v.status();
        return;
      }
      c.visual = std::move(v).value();
    });

    for (size_t i = 0; i < n; ++i) {
      const CorpusClip& clip = corpus.clips[present[start + i]];
      const std::string audio_path = (fs::path(o.audio_dir) / (clip.id + ".csv")).string();
      const std::string visual_path =
          with_visual ? (fs::path(o.visual_dir) / (clip.id + ".npy")).string() : std::string();
      LoadedClip& c = loaded[i];
      if (!c.status.ok()) return c.status;
      if (!writer) {
        // The first clip fixes the layout; the expectations are checked against it.
        if (o.expect_llds > 0 && static_cast<int>(c.audio.num_llds) != o.expect_llds) {
          return Status::InvalidArgument(fmt::format("{} LLD columns, expected {} (ComParE_2016; --expect-llds 0 accepts any)",
                                                     c.audio.num_llds, o.expect_llds))
              .WithFile(audio_path).WithLine(1);
        }
        if (with_visual && c.visual.shape.size() != 2) {
          return Status::InvalidArgument(fmt::format("expected a 2-D array [frames, dims], got {} dimension(s)",
                                                     c.visual.shape.size()))
              .WithFile(visual_path).WithField("shape");
        }
        visual_dim = with_visual ? static_cast<int64_t>(c.visual.shape[1]) : 0;
        if (with_visual && o.expect_visual_dim > 0 && visual_dim != o.expect_visual_dim) {
          return Status::InvalidArgument(fmt::format("visual dimension {}, expected {} (VGG-face; --expect-visual-dim 0 accepts any)",
                                                     visual_dim, o.expect_visual_dim))
              .WithFile(visual_path).WithField("shape");
        }
        if (o.expect_llds == 65) {
          if (Status names = CheckComParE2016(c.audio, audio_path); !names.ok()) {
            log->Warn("import: 65 LLDs but not ComParE_2016's names: {}", names.ToString());
          }
        }
        lld_names = c.audio.lld_names;
        StoreLayout layout;
        layout.audio_dim = 2 * static_cast<int64_t>(c.audio.num_llds);
        layout.visual_dim = visual_dim;
        layout.audio_frame_rate_hz = 1000.0 / o.audio_step_ms;
        layout.visual_frame_rate_hz = o.visual_fps;
        layout.partitions = corpus.partitions;
        layout.classes = corpus.classes;
        layout.class_names = corpus.class_names;
        AVCTL_ASSIGN_OR_RETURN(writer, StoreWriter::Create(o.out_dir, layout, o.overwrite));
        report.audio_dim = layout.audio_dim;
        report.visual_dim = visual_dim;
      }
      AVCTL_RETURN_IF_ERROR(CheckClip(c, audio_path, visual_path, lld_names, visual_dim, with_visual));
      const int64_t af = static_cast<int64_t>(c.audio.frames);
      const int64_t vf = with_visual ? static_cast<int64_t>(c.visual.shape[0]) : 0;
      Status s = writer->AddClip(ClipRecordFromCorpus(clip), c.audio.values.data(), af, c.visual.data.data(), vf);
      if (!s.ok()) return std::move(s).Annotate(with_visual ? fmt::format("{} / {}", audio_path, visual_path) : audio_path);
      if (c.audio.deltas_computed) report.deltas_computed++;
      report.audio_frames += af;
      report.visual_frames += vf;
      report.clips_imported++;
      c = LoadedClip();  // release the memory of this clip
    }
    log->Debug("import: {} / {} clips", start + n, present.size());
  }

  AVCTL_ASSIGN_OR_RETURN(Json labels, LabelFilesProvenance(o.label_files));
  Json provenance = {{"kind", "import"},
                     {"audio_dir", fs::absolute(o.audio_dir).string()},
                     {"visual_dir", with_visual ? fs::absolute(o.visual_dir).string() : std::string()},
                     {"label_files", labels},
                     {"lld_names", lld_names},
                     {"deltas_computed_files", report.deltas_computed},
                     {"missing_audio", report.missing_audio},
                     {"missing_visual", report.missing_visual}};
  if (o.labels.format != LabelFormat::kCremaD) provenance["labels"] = LabelProvenanceToJson(corpus.label_provenance);
  AVCTL_RETURN_IF_ERROR(writer->Finish(/*synthetic=*/false, provenance));
  return report;
}

std::string RenderImportReport(const ImportReport& r) {
  const std::string visual = r.visual_dim == 0 ? std::string("no visual (an audio-only store)")
                                                : fmt::format("visual {} dims / {} frames", r.visual_dim, r.visual_frames);
  std::string out = fmt::format("wrote store {}: {} of {} listed clips, audio {} dims / {} frames ({} file(s) with "
                                "deltas computed), {}\n",
                                r.out_dir, r.clips_imported, r.clips_listed, r.audio_dim, r.audio_frames,
                                r.deltas_computed, visual);
  if (!r.missing_audio.empty()) out += SummarizeMissing(r.missing_audio, "audio") + "\n";
  if (!r.missing_visual.empty()) out += SummarizeMissing(r.missing_visual, "visual") + "\n";
  return out;
}

}  // namespace avctl
