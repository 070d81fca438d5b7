#include "store/labels.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"

namespace avctl {

std::string_view SplitName(Split s) {
  switch (s) {
    case Split::kTrain: return "Train";
    case Split::kDevelopment: return "Development";
    case Split::kTest: return "Test";
  }
  return "Train";
}

bool ParseSplit(std::string_view text, Split* out) {
  for (Split s : {Split::kTrain, Split::kDevelopment, Split::kTest}) {
    if (text == SplitName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

std::vector<std::string> CremaClassCodes() {
  std::vector<std::string> out;
  for (const auto& e : AllEmotions()) out.emplace_back(e.code);
  return out;
}

std::vector<std::string> CremaClassNames() {
  std::vector<std::string> out;
  for (const auto& e : AllEmotions()) out.emplace_back(e.name);
  return out;
}

int HardLabel(const std::array<float, kNumEmotions>& soft, Emotion intended) {
  float best = soft[0];
  for (float v : soft) best = std::max(best, v);
  if (soft[EmotionIndex(intended)] == best) return EmotionIndex(intended);
  for (int c = 0; c < kNumEmotions; ++c)
    if (soft[c] == best) return c;
  return 0;
}

namespace {

int InferPartition(const std::string& path) {
  std::string stem = std::filesystem::path(path).stem().string();
  const std::string prefix = "partition_";
  if (stem.rfind(prefix, 0) != 0) return 0;
  int n = 0;
  auto digits = std::string_view(stem).substr(prefix.size());
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || p != digits.data() + digits.size()) return 0;
  return n;
}

}  // namespace

Result<PartitionLabels> ReadPartitionLabels(const std::string& path, int partition) {
  if (partition <= 0) {
    partition = InferPartition(path);
    if (partition <= 0) {
      return Status::InvalidArgument(
                 "cannot tell the partition number from the file name (expected partition_N.csv); give it explicitly")
          .WithFile(path);
    }
  }
  AVCTL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParsePartitionLabels(text, path, partition);
}

Result<PartitionLabels> ParsePartitionLabels(std::string_view text, const std::string& source, int partition) {
  PartitionLabels out;
  out.path = source;
  out.partition = partition;

  std::vector<std::string_view> lines = SplitLines(text);
  if (lines.empty()) return Status::InvalidArgument("empty label file").WithFile(source);

  // Header: find every required column by name.
  auto header = SplitOn(lines[0], ',');
  std::map<std::string, size_t, std::less<>> col;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name(Trim(header[i]));
    if (i == 0 && name.size() >= 3 && name.compare(0, 3, "\xEF\xBB\xBF") == 0) name = name.substr(3);  // BOM
    if (!col.emplace(name, i).second) {
      return Status::InvalidArgument(fmt::format("duplicate column '{}'", name)).WithFile(source).WithLine(1).WithField(name);
    }
  }
  std::vector<std::string> required = {"FileName", "SpkrID", "Gender", "Split_Set"};
  for (const auto& e : AllEmotions()) required.emplace_back(e.csv_column);
  for (const auto& name : required) {
    if (col.find(name) == col.end()) {
      return Status::InvalidArgument(fmt::format("missing column '{}' in header", name))
          .WithFile(source).WithLine(1).WithField(name);
    }
  }

  std::unordered_map<std::string, int64_t> seen;
  for (size_t li = 1; li < lines.size(); ++li) {
    const int64_t line_no = static_cast<int64_t>(li) + 1;
    if (Trim(lines[li]).empty()) {
      return Status::InvalidArgument("blank line inside the table").WithFile(source).WithLine(line_no);
    }
    auto cells = SplitOn(lines[li], ',');
    if (cells.size() != header.size()) {
      return Status::InvalidArgument(fmt::format("expected {} cells, got {}", header.size(), cells.size()))
          .WithFile(source).WithLine(line_no);
    }
    auto cell = [&](const std::string& name) { return Trim(cells[col.find(name)->second]); };

    LabelRow row;
    row.line = line_no;
    auto parsed = ParseCremaClipName(cell("FileName"));
    if (!parsed.ok()) {
      Status s = parsed.status();
      return std::move(s).WithFile(source).WithLine(line_no);
    }
    row.name = std::move(parsed).value();
    if (!seen.emplace(row.name.stem, line_no).second) {
      return Status::InvalidArgument(fmt::format("clip {} listed twice (first on line {})", row.name.stem,
                                                 seen[row.name.stem]))
          .WithFile(source).WithLine(line_no).WithField("FileName");
    }

    double sum = 0;
    for (const auto& e : AllEmotions()) {
      std::string column(e.csv_column);
      std::string_view v = cell(column);
      double x = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(x)) {
        return Status::InvalidArgument(fmt::format("'{}' is not a number", v)).WithFile(source).WithLine(line_no).WithField(column);
      }
      if (x < 0 || x > 1) {
        return Status::InvalidArgument(fmt::format("soft label {} outside [0, 1]", x)).WithFile(source).WithLine(line_no).WithField(column);
      }
      row.soft[EmotionIndex(e.emotion)] = static_cast<float>(x);
      sum += x;
    }
    if (std::fabs(sum - 1.0) > 0.01) {
      return Status::InvalidArgument(fmt::format("soft labels sum to {:.4f}, expected 1", sum))
          .WithFile(source).WithLine(line_no);
    }
    row.label = HardLabel(row.soft, row.name.emotion);

    std::string_view spk = cell("SpkrID");
    int speaker = 0;
    auto [sp, sec] = std::from_chars(spk.data(), spk.data() + spk.size(), speaker);
    if (sec != std::errc() || sp != spk.data() + spk.size()) {
      return Status::InvalidArgument(fmt::format("speaker '{}' is not a number", spk)).WithFile(source).WithLine(line_no).WithField("SpkrID");
    }
    if (speaker != row.name.actor) {
      return Status::InvalidArgument(fmt::format("speaker {} does not match actor {} of clip {}", speaker,
                                                 row.name.actor, row.name.stem))
          .WithFile(source).WithLine(line_no).WithField("SpkrID");
    }
    row.gender = std::string(cell("Gender"));
    if (row.gender != "Male" && row.gender != "Female") {
      return Status::InvalidArgument(fmt::format("gender '{}' is neither Male nor Female", row.gender))
          .WithFile(source).WithLine(line_no).WithField("Gender");
    }
    if (!ParseSplit(cell("Split_Set"), &row.split)) {
      return Status::InvalidArgument(fmt::format("split '{}' is not Train, Development or Test", cell("Split_Set")))
          .WithFile(source).WithLine(line_no).WithField("Split_Set");
    }
    out.rows.push_back(std::move(row));
  }
  if (out.rows.empty()) return Status::InvalidArgument("no clips in label file").WithFile(source);

  // Speaker independence: no actor in two splits.
  std::unordered_map<int, const LabelRow*> actor_split;
  for (const auto& row : out.rows) {
    auto [it, inserted] = actor_split.emplace(row.name.actor, &row);
    if (!inserted && it->second->split != row.split) {
      return Status::InvalidArgument(fmt::format("actor {} is in {} (line {}) and in {}: splits are not speaker-independent",
                                                 row.name.actor, SplitName(it->second->split), it->second->line,
                                                 SplitName(row.split)))
          .WithFile(source).WithLine(row.line).WithField("Split_Set");
    }
  }
  return out;
}

Result<Corpus> MergePartitions(const std::vector<PartitionLabels>& parts) {
  if (parts.empty()) return Status::InvalidArgument("no label files given");
  Corpus corpus;
  corpus.classes = CremaClassCodes();
  corpus.class_names = CremaClassNames();
  corpus.label_provenance.format = "crema-d";
  const PartitionLabels& first = parts[0];
  std::unordered_map<std::string, size_t> index;
  for (const auto& row : first.rows) {
    index.emplace(row.name.stem, corpus.clips.size());
    CorpusClip clip;
    clip.id = row.name.stem;
    clip.group = std::to_string(row.name.actor);
    clip.sentence = row.name.sentence;
    clip.level = std::string(IntensityLevelCode(row.name.level));
    clip.intended = EmotionIndex(row.name.emotion);
    clip.soft.assign(row.soft.begin(), row.soft.end());
    clip.label = row.label;
    clip.gender = row.gender;
    clip.splits.push_back(row.split);
    corpus.clips.push_back(std::move(clip));
  }
  corpus.partitions.push_back(first.partition);
  corpus.label_files.push_back(first.path);

  for (size_t p = 1; p < parts.size(); ++p) {
    const PartitionLabels& part = parts[p];
    for (int seen : corpus.partitions) {
      if (seen == part.partition) {
        return Status::InvalidArgument(fmt::format("partition {} given twice", part.partition)).WithFile(part.path);
      }
    }
    if (part.rows.size() != first.rows.size()) {
      return Status::InvalidArgument(fmt::format("lists {} clips but {} lists {}", part.rows.size(), first.path,
                                                 first.rows.size()))
          .WithFile(part.path);
    }
    for (const auto& row : part.rows) {
      auto it = index.find(row.name.stem);
      if (it == index.end()) {
        return Status::InvalidArgument(fmt::format("clip {} is not in {}", row.name.stem, first.path))
            .WithFile(part.path).WithLine(row.line).WithField("FileName");
      }
      CorpusClip& clip = corpus.clips[it->second];
      if (!std::equal(clip.soft.begin(), clip.soft.end(), row.soft.begin(), row.soft.end()) ||
          clip.gender != row.gender) {
        return Status::InvalidArgument(fmt::format("labels of clip {} differ from those in {}", row.name.stem, first.path))
            .WithFile(part.path).WithLine(row.line);
      }
      if (clip.splits.size() != p) {
        return Status::InvalidArgument(fmt::format("clip {} listed twice", row.name.stem)).WithFile(part.path).WithLine(row.line);
      }
      clip.splits.push_back(row.split);
    }
    corpus.partitions.push_back(part.partition);
    corpus.label_files.push_back(part.path);
  }
  return corpus;
}

Result<Corpus> LoadCorpus(const std::vector<std::string>& label_files) {
  std::vector<PartitionLabels> parts;
  for (size_t i = 0; i < label_files.size(); ++i) {
    const std::string& path = label_files[i];
    // partition_N.csv names its partition; any other file is numbered by its position.
    int number = InferPartition(path);
    AVCTL_ASSIGN_OR_RETURN(PartitionLabels p, ReadPartitionLabels(path, number > 0 ? number : static_cast<int>(i) + 1));
    parts.push_back(std::move(p));
  }
  return MergePartitions(parts);
}

}  // namespace avctl
