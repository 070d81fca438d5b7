#include "store/manifest.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "common/checksum.h"

#include <fmt/format.h>

namespace avctl {

const char* DTypeName(DType t) { return t == DType::kFloat32 ? "float32" : "float16"; }
size_t DTypeSize(DType t) { return t == DType::kFloat32 ? 4 : 2; }

int Manifest::PartitionIndex(int partition) const {
  for (size_t i = 0; i < partitions.size(); ++i)
    if (partitions[i] == partition) return static_cast<int>(i);
  return -1;
}

namespace {

Json ArrayToJson(const ArrayInfo& a) {
  return {{"file", a.file},   {"dtype", DTypeName(a.dtype)},       {"dim", a.dim},
          {"frames", a.frames}, {"frame_rate_hz", a.frame_rate_hz}, {"bytes", a.bytes},
          {"checksum", a.checksum}};
}

Status Invalid(const std::string& path, const std::string& msg) {
  return Status::InvalidArgument(fmt::format("{}: {}", path, msg)).WithField(path);
}

Result<ArrayInfo> ArrayFromJson(const Json& j, const std::string& path, DType expected) {
  ArrayInfo a;
  AVCTL_ASSIGN_OR_RETURN(a.file, GetString(j, "file", path));
  AVCTL_ASSIGN_OR_RETURN(std::string dtype, GetString(j, "dtype", path));
  if (dtype != DTypeName(expected)) {
    return Invalid(JoinJsonPath(path, "dtype"), fmt::format("expected \"{}\", got \"{}\"", DTypeName(expected), dtype));
  }
  a.dtype = expected;
  AVCTL_ASSIGN_OR_RETURN(a.dim, GetInt(j, "dim", path));
  AVCTL_ASSIGN_OR_RETURN(a.frames, GetInt(j, "frames", path));
  AVCTL_ASSIGN_OR_RETURN(a.frame_rate_hz, GetNumber(j, "frame_rate_hz", path));
  AVCTL_ASSIGN_OR_RETURN(a.bytes, GetInt(j, "bytes", path));
  AVCTL_ASSIGN_OR_RETURN(a.checksum, GetString(j, "checksum", path));
  if (a.dim <= 0) return Invalid(JoinJsonPath(path, "dim"), "must be positive");
  if (a.frames < 0) return Invalid(JoinJsonPath(path, "frames"), "must not be negative");
  if (!(a.frame_rate_hz > 0)) return Invalid(JoinJsonPath(path, "frame_rate_hz"), "must be positive");
  if (a.bytes != a.frames * a.dim * static_cast<int64_t>(DTypeSize(a.dtype))) {
    return Invalid(JoinJsonPath(path, "bytes"),
                   fmt::format("{} does not equal frames x dim x {} = {}", a.bytes, DTypeSize(a.dtype),
                               a.frames * a.dim * static_cast<int64_t>(DTypeSize(a.dtype))));
  }
  return a;
}

Result<std::vector<int64_t>> IntArray(const Json& obj, const std::string& key, const std::string& path, size_t n) {
  AVCTL_ASSIGN_OR_RETURN(std::vector<double> v, GetNumberArray(obj, key, path, static_cast<int64_t>(n)));
  std::vector<int64_t> out;
  for (double x : v) out.push_back(static_cast<int64_t>(x));
  return out;
}

// A list of at least two distinct, non-empty class codes or names.
Result<std::vector<std::string>> ClassList(const Json& j, const std::string& field) {
  if (!j.is_array() || j.size() < 2) {
    return Invalid(field, "expected a list of at least two class names, got " + DescribeJson(j));
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (size_t k = 0; k < j.size(); ++k) {
    if (!j[k].is_string() || j[k].get<std::string>().empty()) {
      return Invalid(JoinJsonPath(field, k), "expected a class name, got " + DescribeJson(j[k]));
    }
    if (!seen.insert(j[k].get<std::string>()).second) {
      return Invalid(JoinJsonPath(field, k), fmt::format("'{}' named twice", j[k].get<std::string>()));
    }
    out.push_back(j[k].get<std::string>());
  }
  return out;
}

}  // namespace

ClipRecord ClipRecordFromCorpus(const CorpusClip& clip) {
  ClipRecord rec;
  rec.id = clip.id;
  rec.group = clip.group;
  rec.gender = clip.gender;
  rec.sentence = clip.sentence;
  rec.level = clip.level;
  rec.intended = clip.intended;
  rec.label = clip.label;
  rec.soft = clip.soft;
  rec.splits = clip.splits;
  return rec;
}

Result<Json> LabelFilesProvenance(const std::vector<std::string>& label_files) {
  Json out = Json::array();
  for (const auto& path : label_files) {
    AVCTL_ASSIGN_OR_RETURN(std::string sum, ChecksumFile(path));
    out.push_back({{"name", std::filesystem::path(path).filename().string()}, {"checksum", sum}});
  }
  return out;
}

Json ManifestToJson(const Manifest& m) {
  const Json classes = m.classes;
  const auto code = [&](int index) {
    return index >= 0 && index < static_cast<int>(m.classes.size()) ? m.classes[static_cast<size_t>(index)]
                                                                   : std::to_string(index);
  };
  Json clips = Json::array();
  for (const auto& c : m.clips) {
    Json splits = Json::array();
    for (Split s : c.splits) splits.push_back(std::string(SplitName(s)));
    Json soft = Json::array();
    for (float v : c.soft) soft.push_back(v);
    Json clip = {{"id", c.id},
                 {"gender", c.gender},
                 {"intended", code(c.intended)},
                 {"label", code(c.label)},
                 {"soft", soft},
                 {"splits", splits},
                 {"audio", {c.audio_offset, c.audio_frames}}};
    if (m.has_visual()) clip["visual"] = {c.visual_offset, c.visual_frames};
    if (IsCremaRecord(c)) {
      clip["actor"] = std::stoi(c.group);
      clip["sentence"] = c.sentence;
      clip["level"] = c.level;
    } else {
      clip["group"] = c.group;
    }
    clips.push_back(std::move(clip));
  }
  Json out = {{"format", kStoreFormatName},
          {"format_version", m.format_version},
          {"created_by", m.created_by},
          {"synthetic", m.synthetic},
          {"provenance", m.provenance},
          {"classes", classes},
          {"partitions", m.partitions},
          {"audio", ArrayToJson(m.audio)},
          {"norm_stats",
           {{"file", m.norm_stats.file},
            {"dtype", "float32"},
            {"layout", "per partition: audio_mean[audio.dim], audio_std[audio.dim], visual_mean[visual.dim], visual_std[visual.dim]"},
            {"bytes", m.norm_stats.bytes},
            {"checksum", m.norm_stats.checksum},
            {"train_audio_frames", m.norm_stats.train_audio_frames},
            {"train_visual_frames", m.norm_stats.train_visual_frames}}},
          {"clips", clips}};
  if (m.has_visual()) out["visual"] = ArrayToJson(m.visual);
  if (m.classes != CremaClassCodes()) out["class_names"] = m.class_names;
  return out;
}

Result<Manifest> ManifestFromJson(const Json& j, const std::string& source) {
  auto with_source = [&](Status s) { return std::move(s).WithFile(source); };
  Manifest m;
  auto fmt_name = GetString(j, "format", "");
  if (!fmt_name.ok()) return with_source(fmt_name.status());
  if (*fmt_name != kStoreFormatName) {
    return with_source(Invalid("format", fmt::format("expected \"{}\", got \"{}\": not a feature store", kStoreFormatName, *fmt_name)));
  }
  auto version = GetInt(j, "format_version", "");
  if (!version.ok()) return with_source(version.status());
  if (*version != kStoreFormatVersion) {
    return with_source(Invalid("format_version", fmt::format("this avctl reads version {}, the store is version {}",
                                                             kStoreFormatVersion, *version)));
  }
  m.format_version = static_cast<int>(*version);

  // Everything else: collect with one helper so each error gets the source.
  auto parse = [&]() -> Status {
    AVCTL_ASSIGN_OR_RETURN(m.created_by, GetString(j, "created_by", ""));
    AVCTL_ASSIGN_OR_RETURN(m.synthetic, GetBool(j, "synthetic", ""));
    AVCTL_ASSIGN_OR_RETURN(const Json* prov, GetMember(j, "provenance", ""));
    m.provenance = *prov;
    AVCTL_ASSIGN_OR_RETURN(std::vector<double> classes_ignored, GetNumberArray(j, "partitions", ""));
    for (double p : classes_ignored) m.partitions.push_back(static_cast<int>(p));
    if (m.partitions.empty()) return Invalid("partitions", "no partitions");
    AVCTL_ASSIGN_OR_RETURN(const Json* classes, GetMember(j, "classes", ""));
    AVCTL_ASSIGN_OR_RETURN(m.classes, ClassList(*classes, "classes"));
    if (m.classes == CremaClassCodes()) {
      m.class_names = CremaClassNames();
    } else if (j.contains("class_names")) {
      AVCTL_ASSIGN_OR_RETURN(m.class_names, ClassList(j["class_names"], "class_names"));
      if (m.class_names.size() != m.classes.size()) {
        return Invalid("class_names", fmt::format("{} names for {} classes", m.class_names.size(), m.classes.size()));
      }
    } else {
      m.class_names = m.classes;
    }
    std::map<std::string, int> class_index;
    for (size_t k = 0; k < m.classes.size(); ++k) class_index[m.classes[k]] = static_cast<int>(k);
    AVCTL_ASSIGN_OR_RETURN(const Json* audio, GetMember(j, "audio", ""));
    AVCTL_ASSIGN_OR_RETURN(m.audio, ArrayFromJson(*audio, "audio", DType::kFloat32));
    if (j.contains("visual")) {  // absent: an audio-only store
      AVCTL_ASSIGN_OR_RETURN(m.visual, ArrayFromJson(j["visual"], "visual", DType::kFloat16));
    } else {
      m.visual = ArrayInfo();
      m.visual.dtype = DType::kFloat16;
    }
    AVCTL_ASSIGN_OR_RETURN(const Json* ns, GetMember(j, "norm_stats", ""));
    AVCTL_ASSIGN_OR_RETURN(m.norm_stats.file, GetString(*ns, "file", "norm_stats"));
    AVCTL_ASSIGN_OR_RETURN(m.norm_stats.bytes, GetInt(*ns, "bytes", "norm_stats"));
    AVCTL_ASSIGN_OR_RETURN(m.norm_stats.checksum, GetString(*ns, "checksum", "norm_stats"));
    AVCTL_ASSIGN_OR_RETURN(m.norm_stats.train_audio_frames,
                           IntArray(*ns, "train_audio_frames", "norm_stats", m.partitions.size()));
    AVCTL_ASSIGN_OR_RETURN(m.norm_stats.train_visual_frames,
                           IntArray(*ns, "train_visual_frames", "norm_stats", m.partitions.size()));
    const int64_t expected_stats =
        static_cast<int64_t>(m.partitions.size()) * 2 * (m.audio.dim + m.visual.dim) * 4;
    if (m.norm_stats.bytes != expected_stats) {
      return Invalid("norm_stats.bytes", fmt::format("{} does not equal partitions x 2 x (audio.dim + visual.dim) x 4 = {}",
                                                     m.norm_stats.bytes, expected_stats));
    }

    AVCTL_ASSIGN_OR_RETURN(const Json* clips, GetMember(j, "clips", ""));
    if (!clips->is_array()) return Invalid("clips", "expected an array, got " + DescribeJson(*clips));
    int64_t audio_next = 0, visual_next = 0;
    m.clips.reserve(clips->size());
    for (size_t i = 0; i < clips->size(); ++i) {
      const Json& cj = (*clips)[i];
      const std::string path = JoinJsonPath("clips", i);
      ClipRecord c;
      AVCTL_ASSIGN_OR_RETURN(c.id, GetString(cj, "id", path));
      if (cj.is_object() && cj.contains("actor")) {  // a CREMA-D clip
        AVCTL_ASSIGN_OR_RETURN(int64_t actor, GetInt(cj, "actor", path));
        if (actor < 0) return Invalid(JoinJsonPath(path, "actor"), "must not be negative");
        c.group = std::to_string(actor);
        AVCTL_ASSIGN_OR_RETURN(c.sentence, GetString(cj, "sentence", path));
        AVCTL_ASSIGN_OR_RETURN(c.level, GetString(cj, "level", path));
        if (c.sentence.empty()) return Invalid(JoinJsonPath(path, "sentence"), "must not be empty");
      } else {
        AVCTL_ASSIGN_OR_RETURN(c.group, GetString(cj, "group", path));
      }
      AVCTL_ASSIGN_OR_RETURN(c.gender, GetString(cj, "gender", path));
      for (auto [key, slot] : {std::pair<const char*, int*>{"intended", &c.intended}, {"label", &c.label}}) {
        AVCTL_ASSIGN_OR_RETURN(std::string code, GetString(cj, key, path));
        auto it = class_index.find(code);
        if (it == class_index.end()) {
          return Invalid(JoinJsonPath(path, key),
                         fmt::format("unknown class '{}' (the store's classes: {})", code, classes->dump()));
        }
        *slot = it->second;
      }
      AVCTL_ASSIGN_OR_RETURN(std::vector<double> soft,
                             GetNumberArray(cj, "soft", path, static_cast<int64_t>(m.classes.size())));
      c.soft.assign(soft.begin(), soft.end());
      AVCTL_ASSIGN_OR_RETURN(const Json* splits, GetMember(cj, "splits", path));
      if (!splits->is_array() || splits->size() != m.partitions.size()) {
        return Invalid(JoinJsonPath(path, "splits"), fmt::format("expected {} split names, got {}",
                                                                 m.partitions.size(), DescribeJson(*splits)));
      }
      for (size_t p = 0; p < splits->size(); ++p) {
        Split s;
        if (!(*splits)[p].is_string() || !ParseSplit((*splits)[p].get<std::string>(), &s)) {
          return Invalid(JoinJsonPath(JoinJsonPath(path, "splits"), p),
                         "expected \"Train\", \"Development\" or \"Test\", got " + DescribeJson((*splits)[p]));
        }
        c.splits.push_back(s);
      }
      AVCTL_ASSIGN_OR_RETURN(std::vector<int64_t> a, IntArray(cj, "audio", path, 2));
      c.audio_offset = a[0];
      c.audio_frames = a[1];
      if (m.has_visual()) {
        AVCTL_ASSIGN_OR_RETURN(std::vector<int64_t> v, IntArray(cj, "visual", path, 2));
        c.visual_offset = v[0];
        c.visual_frames = v[1];
      } else if (cj.contains("visual")) {
        return Invalid(JoinJsonPath(path, "visual"), "the store has no visual array (audio only)");
      }
      if (c.audio_offset != audio_next || c.audio_frames <= 0) {
        return Invalid(JoinJsonPath(path, "audio"), fmt::format("expected offset {} and a positive frame count, got [{}, {}]",
                                                                audio_next, c.audio_offset, c.audio_frames));
      }
      if (m.has_visual() && (c.visual_offset != visual_next || c.visual_frames <= 0)) {
        return Invalid(JoinJsonPath(path, "visual"), fmt::format("expected offset {} and a positive frame count, got [{}, {}]",
                                                                 visual_next, c.visual_offset, c.visual_frames));
      }
      audio_next += c.audio_frames;
      visual_next += c.visual_frames;
      m.clips.push_back(std::move(c));
    }
    if (audio_next != m.audio.frames) {
      return Invalid("audio.frames", fmt::format("{} but the clips hold {} frames", m.audio.frames, audio_next));
    }
    if (visual_next != m.visual.frames) {
      return Invalid("visual.frames", fmt::format("{} but the clips hold {} frames", m.visual.frames, visual_next));
    }
    return Status::OK();
  };
  Status s = parse();
  if (!s.ok()) return with_source(std::move(s));
  return m;
}

bool IsCremaRecord(const ClipRecord& c) {  // numeric actors as before stores held other corpora (byte-identical)
  if (c.sentence.empty() || c.group.empty() || c.group.size() > 9) return false;
  if (c.group.size() > 1 && c.group[0] == '0') return false;
  for (char ch : c.group)
    if (ch < '0' || ch > '9') return false;
  return true;
}

}  // namespace avctl
