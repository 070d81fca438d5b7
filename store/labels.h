// Reader of the CREMA-D partition label files (data/crema-d/partition_N.csv):
//   FileName,angry,sad,disgust,fear,neutral,happy,SpkrID,Gender,Split_Set
// and the merge of several partitions into one clip list with a split per
// partition. Columns are found by name, in any order.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/crema_name.h"
#include "common/emotions.h"
#include "common/json_util.h"
#include "common/label_provenance.h"
#include "common/status.h"

namespace avctl {

enum class Split : int { kTrain = 0, kDevelopment = 1, kTest = 2 };
inline constexpr int kNumSplits = 3;
std::string_view SplitName(Split s);  // "Train", "Development", "Test"
bool ParseSplit(std::string_view text, Split* out);

struct LabelRow {
  CremaClipName name;                     // parsed FileName; name.stem is the clip id
  std::array<float, kNumEmotions> soft{};  // soft labels in class-index order
  int label = 0;                          // hard label: argmax of soft (ties: intended emotion, else lowest index)
  std::string gender;                     // "Male" or "Female"
  Split split = Split::kTrain;
  int64_t line = 0;                       // 1-based line in the file
};

struct PartitionLabels {
  std::string path;
  int partition = 0;  // 1..5 for the shipped files
  std::vector<LabelRow> rows;
};

// `partition` <= 0 infers it from a file name of the form partition_N.csv.
Result<PartitionLabels> ReadPartitionLabels(const std::string& path, int partition = 0);
Result<PartitionLabels> ParsePartitionLabels(std::string_view text, const std::string& source, int partition);

int HardLabel(const std::array<float, kNumEmotions>& soft, Emotion intended);

// One clip of a corpus (any label schema) with its split in each partition.
// CREMA-D clips also carry their actor's sentence and intensity level.
struct CorpusClip {
  std::string id;        // the clip id: the feature files are <id>.csv / <id>.npy
  std::string group;     // speaker or session (CREMA-D: the actor number)
  std::string gender;    // as the labels give it ("" when they do not)
  std::string sentence;  // CREMA-D only ("" otherwise)
  std::string level;     // CREMA-D only ("LO", "MD", "HI", "XX"; "" otherwise)
  int intended = 0;      // class the clip was recorded for (CREMA-D); otherwise the label
  std::vector<float> soft;  // soft labels, one per class of the corpus
  int label = 0;         // hard label (class index)
  std::vector<Split> splits;  // splits[i] belongs to partitions[i]
};

struct Corpus {
  std::vector<int> partitions;
  std::vector<std::string> label_files;
  // The label schema: class codes in index order and their display names.
  std::vector<std::string> classes;
  std::vector<std::string> class_names;
  std::vector<CorpusClip> clips;  // in the order of the first file
  LabelProvenance label_provenance;  // what the reader did (format, columns, labels dropped or merged, splits left out)
};

// CREMA-D's six as class codes and names, in class-index order
// (common/emotions.h): ANG DIS FEA HAP NEU SAD; anger, disgust, ...
std::vector<std::string> CremaClassCodes();
std::vector<std::string> CremaClassNames();

// All files must list the same clips with the same labels, speakers and
// genders; only the splits may differ. Partition numbers must be distinct.
Result<Corpus> MergePartitions(const std::vector<PartitionLabels>& partitions);
// Files named partition_N.csv are partition N; others are numbered by position.
Result<Corpus> LoadCorpus(const std::vector<std::string>& label_files);

}  // namespace avctl
