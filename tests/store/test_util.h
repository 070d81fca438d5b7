// Helpers shared by the store tests: temporary directories and small label files.
#pragma once

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "store/synth.h"

namespace avctl::testutil {

// A fresh, empty directory unique to the running test.
inline std::string FreshDir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path p = std::filesystem::path(::testing::TempDir()) / "avctl-tests" /
                            (std::string(info->test_suite_name()) + "." + info->name()) / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

inline std::string ShippedLabels(int partition) {
  return std::string(AVCTL_SOURCE_DIR) + "/data/crema-d/partition_" + std::to_string(partition) + ".csv";
}

// A generic labels CSV of a four-class corpus in the IEMOCAP style:
// `speakers` speakers spk01.. with `clips` clips each, labels ang, hap, sad,
// neu and exc (to be merged into hap) in turn, genders alternating, and two
// speaker-independent partitions as `avctl data split` writes them
// (split_1, split_2: 70/15/15 of the speakers, the second rotated).
inline std::string FourClassLabelsCsv(int speakers, int clips) {
  const char* labels[] = {"ang", "hap", "sad", "neu", "exc"};
  const int train = speakers * 70 / 100, dev = (speakers - train) / 2;
  auto split = [&](int s) { return s < train ? "Train" : s < train + dev ? "Development" : "Test"; };
  std::string csv = "clip,speaker,gender,label,split_1,split_2\n";
  for (int s = 0; s < speakers; ++s) {
    const std::string spk = (s < 9 ? "spk0" : "spk") + std::to_string(s + 1);
    for (int i = 0; i < clips; ++i) {
      csv += spk + "_utt" + std::to_string(i) + "," + spk + "," + (s % 2 ? "Male" : "Female") + "," +
             labels[(i + s) % 5] + "," + split(s) + "," + split((s + speakers / 2) % speakers) + "\n";
    }
  }
  return csv;
}

// An MSP-Podcast-style labels_consensus.csv: `speakers` speakers with
// `clips` clips each, EmoClass A S H N plus O and X (dropped by default),
// Train / Development / Test1 by speaker and a few Test2 clips.
inline std::string MspPodcastLabelsCsv(int speakers, int clips) {
  const char* codes[] = {"A", "S", "H", "N", "A", "S", "H", "N", "O", "X"};
  const int train = speakers * 70 / 100, dev = (speakers - train) / 2;
  std::string csv = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n";
  for (int s = 0; s < speakers; ++s) {
    const char* split = s < train ? "Train" : s < train + dev ? "Development" : "Test1";
    for (int i = 0; i < clips; ++i) {
      csv += "MSP-PODCAST_" + std::to_string(1000 + s) + "_" + std::to_string(1000 + i) + ".wav," + codes[(i + s) % 10] +
             ",4.0,4.0,4.0," + std::to_string(100 + s) + "," + (s % 2 ? "Male" : "Female") + "," +
             (i == clips - 1 ? "Test2" : split) + "\n";
    }
  }
  return csv;
}

// Synth options of a tiny store on FourClassLabelsCsv at `labels`:
// exc merged into hap, the classes ang, hap, sad, neu (anger, happiness,
// sadness, neutral), every clip.
inline SynthOptions FourClassSynth(const std::string& labels, const std::string& out) {
  SynthOptions o;
  o.label_files = {labels};
  o.labels.format = LabelFormat::kGeneric;
  o.labels.gender_column = "gender";
  o.labels.merge = {{"exc", "hap"}};
  o.labels.classes = {"ang", "hap", "sad", "neu"};
  o.labels.class_names = {"anger", "happiness", "sadness", "neutral"};
  o.out_dir = out;
  o.profile = SynthProfile::kTiny;
  o.clips_per_actor = 0;
  return o;
}

// Synth options of a tiny audio-only store on MspPodcastLabelsCsv at
// `labels`: the classes A, S, H, N, every clip.
inline SynthOptions MspAudioOnlySynth(const std::string& labels, const std::string& out) {
  SynthOptions o;
  o.label_files = {labels};
  o.labels.format = LabelFormat::kMspPodcast;
  o.labels.classes = {"A", "S", "H", "N"};
  o.audio_only = true;
  o.out_dir = out;
  o.profile = SynthProfile::kTiny;
  o.clips_per_actor = 0;
  return o;
}

inline constexpr const char* kLabelHeader = "FileName,angry,sad,disgust,fear,neutral,happy,SpkrID,Gender,Split_Set\n";

}  // namespace avctl::testutil
