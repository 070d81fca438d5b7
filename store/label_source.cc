#include "store/label_source.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"
#include "store/csv_table.h"

namespace avctl {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ParseSplitValue(const std::string& value, Split* out) {
  const std::string v = Lower(value);
  if (v == "train") *out = Split::kTrain;
  else if (v == "development" || v == "dev" || v == "validation") *out = Split::kDevelopment;
  else if (v == "test" || v == "test1") *out = Split::kTest;
  else return false;
  return true;
}

// A clip id from a file name: no directory, no media extension.
std::string ClipId(const std::string& cell) {
  std::filesystem::path p(cell);
  static const std::set<std::string> kMedia = {".wav", ".flac", ".mp3", ".mp4", ".avi", ".flv", ".mkv", ".webm", ".ogg", ".m4a"};
  std::string name = p.filename().string();
  if (kMedia.count(Lower(p.extension().string()))) name = p.stem().string();
  return name;
}

struct Columns {
  size_t clip = 0, group = 0, label = 0;
  std::optional<size_t> gender;
  std::vector<size_t> splits;
  std::vector<size_t> soft;  // one per kept class
};

struct Row {
  std::string id, group, gender, label;
  std::vector<Split> splits;
  std::vector<float> soft;
  int64_t line = 0;
};

struct FileRows {
  std::string source;
  std::vector<Row> rows;
  size_t partitions = 0;
};

Result<Columns> ResolveColumns(const CsvTable& t, const LabelSourceOptions& o) {
  Columns c;
  AVCTL_ASSIGN_OR_RETURN(c.clip, t.Require(o.clip_column, "--clip-column"));
  AVCTL_ASSIGN_OR_RETURN(c.group, t.Require(o.group_column, "--group-column"));
  AVCTL_ASSIGN_OR_RETURN(c.label, t.Require(o.label_column, "--label-column"));
  if (!o.gender_column.empty()) {
    AVCTL_ASSIGN_OR_RETURN(size_t g, t.Require(o.gender_column, "--gender-column"));
    c.gender = g;
  }
  if (!o.split_column.empty()) {
    AVCTL_ASSIGN_OR_RETURN(size_t s, t.Require(o.split_column, "--split-column"));
    c.splits.push_back(s);
  } else if (auto s = t.Find("split")) {
    c.splits.push_back(*s);
  } else {
    for (int k = 1;; ++k) {
      auto col = t.Find(fmt::format("split_{}", k));
      if (!col) break;
      c.splits.push_back(*col);
    }
    if (c.splits.empty()) {
      return Status::InvalidArgument(
                 "no split column: expected 'split', the columns split_1..split_k that `avctl data split` writes, or "
                 "--split-column")
          .WithFile(t.source()).WithLine(1).WithField("--split-column");
    }
  }
  return c;
}

}  // namespace

const char* LabelFormatName(LabelFormat f) {
  switch (f) {
    case LabelFormat::kCremaD: return "crema-d";
    case LabelFormat::kGeneric: return "generic";
    case LabelFormat::kMspPodcast: return "msp-podcast";
  }
  return "crema-d";
}

Result<LabelFormat> ParseLabelFormat(const std::string& name) {
  for (LabelFormat f : {LabelFormat::kCremaD, LabelFormat::kGeneric, LabelFormat::kMspPodcast}) {
    if (name == LabelFormatName(f)) return f;
  }
  return Status::InvalidArgument(fmt::format("unknown label format '{}' (expected crema-d, generic or msp-podcast)", name))
      .WithField("--format");
}

std::vector<std::string> MspPodcastClasses() { return {"A", "S", "H", "U", "F", "D", "C", "N"}; }
std::vector<std::string> MspPodcastClassNames() {
  return {"anger", "sadness", "happiness", "surprise", "fear", "disgust", "contempt", "neutral"};
}

Result<std::vector<std::pair<std::string, std::string>>> ParseMergeList(const std::string& text, const std::string& option) {
  std::vector<std::pair<std::string, std::string>> out;
  if (Trim(text).empty()) return out;
  for (std::string_view item : SplitOn(text, ',')) {
    auto eq = item.find('=');
    std::string from(Trim(item.substr(0, eq)));
    std::string to(eq == std::string_view::npos ? "" : Trim(item.substr(eq + 1)));
    if (eq == std::string_view::npos || from.empty() || to.empty()) {
      return Status::InvalidArgument(fmt::format("'{}' is not LABEL=CLASS", std::string(item))).WithField(option);
    }
    for (const auto& [f, t] : out) {
      if (f == from) return Status::InvalidArgument(fmt::format("label '{}' merged twice", from)).WithField(option);
    }
    out.emplace_back(from, to);
  }
  return out;
}

Result<Corpus> ParseLabelSource(const std::vector<std::pair<std::string, std::string>>& sources,
                                const LabelSourceOptions& given) {
  if (given.format == LabelFormat::kCremaD) {
    return Status::InvalidArgument("ParseLabelSource reads generic and msp-podcast files; CREMA-D's are read by LoadCorpus");
  }
  if (sources.empty()) return Status::InvalidArgument("no label files given").WithField("--labels");
  LabelSourceOptions o = given;
  std::vector<std::string> default_names;
  if (o.format == LabelFormat::kMspPodcast) {
    o.clip_column = "FileName";
    o.group_column = "SpkrID";
    o.label_column = "EmoClass";
    o.gender_column = "Gender";
    o.split_column = "Split_Set";
    const std::vector<std::string> tests = {"Test1", "Test2", "Test3"};
    if (std::find(tests.begin(), tests.end(), o.msp_test_set) == tests.end() ||
        std::find(o.exclude_splits.begin(), o.exclude_splits.end(), o.msp_test_set) != o.exclude_splits.end()) {
      return Status::InvalidArgument(fmt::format("'{}' is not one of MSP-Podcast's test sets Test1, Test2, Test3",
                                                 o.msp_test_set))
          .WithField("--msp-test-set");
    }
    for (const std::string& s : tests) {
      if (s != o.msp_test_set && std::find(o.exclude_splits.begin(), o.exclude_splits.end(), s) == o.exclude_splits.end()) {
        o.exclude_splits.push_back(s);
      }
    }
    if (o.classes.empty()) o.classes = MspPodcastClasses();
    const auto codes = MspPodcastClasses();
    const auto names = MspPodcastClassNames();
    for (const auto& c : o.classes) {
      auto it = std::find(codes.begin(), codes.end(), c);
      default_names.push_back(it == codes.end() ? c : names[static_cast<size_t>(it - codes.begin())]);
    }
  }
  std::map<std::string, std::string> merge(o.merge.begin(), o.merge.end());
  const std::set<std::string> excluded(o.exclude_splits.begin(), o.exclude_splits.end());
  const auto merged = [&](const std::string& label) {
    auto it = merge.find(label);
    return it == merge.end() ? label : it->second;
  };

  // Pass 1: every file's table and the classes.
  std::vector<CsvTable> tables;
  std::set<std::string> found;
  for (const auto& [source, text] : sources) {
    AVCTL_ASSIGN_OR_RETURN(CsvTable t, CsvTable::Parse(text, source));
    AVCTL_ASSIGN_OR_RETURN(size_t li, t.Require(o.label_column, "--label-column"));
    for (size_t r = 0; r < t.rows(); ++r) found.insert(merged(t.cell(r, li)));
    tables.push_back(std::move(t));
  }
  std::vector<std::string> classes = o.classes;
  if (classes.empty()) classes.assign(found.begin(), found.end());
  if (classes.size() < 2) {
    return Status::InvalidArgument(fmt::format("{} class(es) to keep; a classifier needs at least two", classes.size()))
        .WithFile(sources[0].first)
        .WithField("--classes");
  }
  std::map<std::string, int> class_index;
  for (size_t k = 0; k < classes.size(); ++k) {
    if (!class_index.emplace(classes[k], static_cast<int>(k)).second) {
      return Status::InvalidArgument(fmt::format("class '{}' named twice", classes[k])).WithField("--classes");
    }
  }
  std::vector<std::string> names = !o.class_names.empty() ? o.class_names : !default_names.empty() ? default_names : classes;
  if (names.size() != classes.size()) {
    return Status::InvalidArgument(fmt::format("{} class names for {} classes", names.size(), classes.size()))
        .WithField("--class-names");
  }

  // Pass 2: rows.
  std::map<std::string, int64_t> dropped, excluded_count;
  std::vector<FileRows> files;
  for (const CsvTable& t : tables) {
    AVCTL_ASSIGN_OR_RETURN(Columns col, ResolveColumns(t, o));
    if (o.soft_columns) {
      for (const auto& c : classes) {
        AVCTL_ASSIGN_OR_RETURN(size_t si, t.Require(c, "--soft-columns"));
        col.soft.push_back(si);
      }
    }
    FileRows f;
    f.source = t.source();
    f.partitions = col.splits.size();
    std::unordered_map<std::string, int64_t> seen;
    for (size_t r = 0; r < t.rows(); ++r) {
      const int64_t line = t.line(r);
      auto fail = [&](const std::string& msg, const std::string& field) {
        return Status::InvalidArgument(msg).WithFile(t.source()).WithLine(line).WithField(field);
      };
      Row row;
      row.line = line;
      row.label = merged(t.cell(r, col.label));
      bool skip = false;
      for (size_t s : col.splits) {
        if (excluded.count(t.cell(r, s))) {
          excluded_count[t.cell(r, s)]++;
          skip = true;
          break;
        }
        Split split = Split::kTest;
        const bool msp_test = o.format == LabelFormat::kMspPodcast && t.cell(r, s) == o.msp_test_set;
        if (!msp_test && !ParseSplitValue(t.cell(r, s), &split)) {
          return fail(fmt::format("split '{}' is not Train, Development or Test", t.cell(r, s)), t.header()[s]);
        }
        row.splits.push_back(split);
      }
      if (skip) continue;
      auto cls = class_index.find(row.label);
      if (cls == class_index.end()) {
        dropped[row.label]++;
        continue;
      }
      row.id = ClipId(t.cell(r, col.clip));
      if (row.id.empty()) return fail("empty clip name", t.header()[col.clip]);
      if (auto [it, inserted] = seen.emplace(row.id, line); !inserted) {
        return fail(fmt::format("clip {} listed twice (first on line {})", row.id, it->second), t.header()[col.clip]);
      }
      row.group = t.cell(r, col.group);
      if (row.group.empty()) return fail("empty group (speaker or session)", t.header()[col.group]);
      if (col.gender) row.gender = t.cell(r, *col.gender);
      row.soft.assign(classes.size(), 0.0f);
      if (o.soft_columns) {
        double sum = 0;
        for (size_t k = 0; k < classes.size(); ++k) {
          const std::string& v = t.cell(r, col.soft[k]);
          double x = 0;
          auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
          if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(x) || x < 0) {
            return fail(fmt::format("'{}' is not a soft label (a number >= 0)", v), classes[k]);
          }
          row.soft[k] = static_cast<float>(x);
          sum += x;
        }
        if (!(sum > 0)) return fail("the soft labels of the kept classes are all 0", classes[0]);
        for (auto& x : row.soft) x = static_cast<float>(x / sum);  // renormalised over the kept classes
      } else {
        row.soft[static_cast<size_t>(cls->second)] = 1.0f;
      }
      f.rows.push_back(std::move(row));
    }
    if (f.rows.empty()) return Status::InvalidArgument("no clip of the kept classes").WithFile(t.source());
    files.push_back(std::move(f));
  }

  Corpus corpus;
  corpus.classes = classes;
  corpus.class_names = names;
  for (const auto& [source, text] : sources) corpus.label_files.push_back(source);
  std::unordered_map<std::string, size_t> index;
  for (const Row& row : files[0].rows) {
    index.emplace(row.id, corpus.clips.size());
    CorpusClip c;
    c.id = row.id;
    c.group = row.group;
    c.gender = row.gender;
    c.label = class_index.at(row.label);
    c.intended = c.label;
    c.soft = row.soft;
    corpus.clips.push_back(std::move(c));
  }
  for (const FileRows& f : files) {
    if (f.rows.size() != files[0].rows.size()) {
      return Status::InvalidArgument(fmt::format("lists {} clips of the kept classes but {} lists {}", f.rows.size(),
                                                 files[0].source, files[0].rows.size()))
          .WithFile(f.source);
    }
    for (const Row& row : f.rows) {
      auto it = index.find(row.id);
      if (it == index.end()) {
        return Status::InvalidArgument(fmt::format("clip {} is not in {}", row.id, files[0].source))
            .WithFile(f.source).WithLine(row.line);
      }
      CorpusClip& c = corpus.clips[it->second];
      if (c.group != row.group || c.gender != row.gender || c.soft != row.soft) {
        return Status::InvalidArgument(fmt::format("labels, group or gender of clip {} differ from those in {}", row.id,
                                                   files[0].source))
            .WithFile(f.source).WithLine(row.line);
      }
      c.splits.insert(c.splits.end(), row.splits.begin(), row.splits.end());
    }
  }
  for (size_t p = 0; p < corpus.clips[0].splits.size(); ++p) corpus.partitions.push_back(static_cast<int>(p) + 1);

  // Group independence in every partition ("Unknown" speakers, as
  // MSP-Podcast marks them, are not one speaker and are not checked).
  for (size_t p = 0; p < corpus.partitions.size(); ++p) {
    std::unordered_map<std::string, Split> where;
    for (const CorpusClip& c : corpus.clips) {
      if (c.group == "Unknown") continue;
      auto [it, inserted] = where.emplace(c.group, c.splits[p]);
      if (!inserted && it->second != c.splits[p]) {
        return Status::InvalidArgument(fmt::format("group '{}' is in {} and in {} of partition {}: the splits are not "
                                                   "speaker-independent (avctl data split makes ones that are)",
                                                   c.group, SplitName(it->second), SplitName(c.splits[p]), p + 1))
            .WithFile(corpus.label_files[0]).WithField(o.group_column);
      }
    }
    for (size_t k = 0; k < classes.size(); ++k) {
      bool in_train = false;
      for (const CorpusClip& c : corpus.clips) in_train |= c.label == static_cast<int>(k) && c.splits[p] == Split::kTrain;
      if (!in_train) {
        return Status::InvalidArgument(fmt::format("class '{}' has no clip in Train of partition {}", classes[k], p + 1))
            .WithFile(corpus.label_files[0]).WithField("--classes");
      }
    }
  }

  LabelProvenance& p = corpus.label_provenance;
  p.format = LabelFormatName(o.format);
  p.columns = {{"clip", o.clip_column},
               {"group", o.group_column},
               {"label", o.label_column},
               {"gender", o.gender_column},
               {"split", o.split_column}};
  p.merged.insert(o.merge.begin(), o.merge.end());
  p.dropped = std::move(dropped);
  p.excluded_splits = std::move(excluded_count);
  p.soft_labels = o.soft_columns ? "columns" : "one-hot";
  if (o.format == LabelFormat::kMspPodcast) p.test_split = o.msp_test_set;
  return corpus;
}

Result<Corpus> LoadLabelSource(const std::vector<std::string>& files, const LabelSourceOptions& options) {
  if (options.format == LabelFormat::kCremaD) {
    if (!options.classes.empty() || !options.merge.empty()) {
      return Status::InvalidArgument("a class subset or merge needs --format generic").WithField("--classes");
    }
    return LoadCorpus(files);
  }
  std::vector<std::pair<std::string, std::string>> sources;
  for (const auto& path : files) {
    AVCTL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
    sources.emplace_back(path, std::move(text));
  }
  return ParseLabelSource(sources, options);
}

}  // namespace avctl
