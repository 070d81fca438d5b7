// The six CREMA-D emotion classes, in the one order used everywhere in avctl
// (class index = position in this list): anger, disgust, fear, happiness,
// neutral, sadness. Their file-name codes and the column names of the
// partition label files live here and nowhere else.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace avctl {

enum class Emotion : int {
  kAnger = 0,
  kDisgust = 1,
  kFear = 2,
  kHappiness = 3,
  kNeutral = 4,
  kSadness = 5,
};

inline constexpr int kNumEmotions = 6;

struct EmotionInfo {
  Emotion emotion;
  std::string_view code;        // CREMA-D file-name code: "ANG"
  std::string_view name;        // "anger"
  std::string_view csv_column;  // column of the partition label files: "angry"
};

// All six, indexed by class index.
const std::array<EmotionInfo, kNumEmotions>& AllEmotions();

inline int EmotionIndex(Emotion e) { return static_cast<int>(e); }
std::string_view EmotionCode(Emotion e);
std::string_view EmotionName(Emotion e);

std::optional<Emotion> EmotionFromCode(std::string_view code);
std::optional<Emotion> EmotionFromName(std::string_view name);
std::optional<Emotion> EmotionFromCsvColumn(std::string_view column);
std::optional<Emotion> EmotionFromIndex(int index);

}  // namespace avctl
