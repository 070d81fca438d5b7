// Label files of any categorical emotion corpus, read into a Corpus
// (store/labels.h) that synth and import build a store from:
//  - "crema-d": VAVL's CREMA-D partition files (store/labels.h), the default;
//  - "generic": a CSV with a clip column, a group column (speaker, or a
//    session as in IEMOCAP), a label column, an optional gender column, and
//    either a split column (the file is one partition) or the columns
//    split_1..split_k that `avctl data split` writes (k partitions); with
//    `soft_columns`, soft labels from columns named after the kept classes;
//  - "msp-podcast": MSP-Podcast's labels_consensus.csv (FileName, EmoClass,
//    SpkrID, Gender, Split_Set): Train, Development and Test1 (or the test
//    set `msp_test_set` names) are the splits of one partition; the other
//    test sets are left out and counted in the store's provenance; the EmoClass codes A S H U F D C N are kept
//    and O (other) and X (no agreement) dropped unless `classes` says else.
// Several files are several partitions of the same clips (labels, groups and
// genders must agree). Class merge and subset: `merge` maps a label to
// another first (IEMOCAP's four-class setting: exc -> hap), then `classes`
// keeps those, in that order; rows of any other class are dropped and the
// count per label is in the provenance. Values in Split columns:
// Train, Development (or Dev, Validation), Test (or Test1), any case.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/labels.h"

namespace avctl {

enum class LabelFormat { kCremaD, kGeneric, kMspPodcast };
const char* LabelFormatName(LabelFormat f);  // "crema-d", "generic", "msp-podcast"
Result<LabelFormat> ParseLabelFormat(const std::string& name);

struct LabelSourceOptions {
  LabelFormat format = LabelFormat::kCremaD;
  // Generic files (msp-podcast: FileName, SpkrID, EmoClass, Gender, Split_Set).
  std::string clip_column = "clip";
  std::string group_column = "speaker";
  std::string label_column = "label";
  std::string gender_column;  // "": none
  std::string split_column;   // "": "split" if the header has it, else split_1..split_k
  std::vector<std::string> classes;      // kept, in class-index order; empty: every label, sorted (msp: A S H U F D C N)
  std::vector<std::string> class_names;  // display names, one per class; empty: the codes (msp: anger, sadness, ...)
  std::vector<std::pair<std::string, std::string>> merge;  // label -> class, applied first
  bool soft_columns = false;
  std::vector<std::string> exclude_splits;  // split values left out and counted (msp: the test sets not chosen)
  // msp-podcast: the test set read as the store's Test split (Test1, Test2 or
  // Test3; MSP-Podcast reports both Test1 and Test2); the others are left out
  // and counted.
  std::string msp_test_set = "Test1";
};

// The defaults of MSP-Podcast's labels_consensus.csv.
std::vector<std::string> MspPodcastClasses();      // A S H U F D C N
std::vector<std::string> MspPodcastClassNames();   // anger sadness happiness surprise fear disgust contempt neutral

Result<Corpus> LoadLabelSource(const std::vector<std::string>& files, const LabelSourceOptions& options);
// The same on texts in memory (`sources` name them in errors); the partition
// numbers count up from 1 over the files' partitions.
Result<Corpus> ParseLabelSource(const std::vector<std::pair<std::string, std::string>>& sources,
                                const LabelSourceOptions& options);

// "anger=A,happiness=H" style lists: "exc=hap,fru=ang" -> pairs; errors name `option`.
Result<std::vector<std::pair<std::string, std::string>>> ParseMergeList(const std::string& text, const std::string& option);

}  // namespace avctl
