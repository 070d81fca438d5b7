#include "common/emotions.h"

namespace avctl {

const std::array<EmotionInfo, kNumEmotions>& AllEmotions() {
  static constexpr std::array<EmotionInfo, kNumEmotions> kAll = {{
      {Emotion::kAnger, "ANG", "anger", "angry"},
      {Emotion::kDisgust, "DIS", "disgust", "disgust"},
      {Emotion::kFear, "FEA", "fear", "fear"},
      {Emotion::kHappiness, "HAP", "happiness", "happy"},
      {Emotion::kNeutral, "NEU", "neutral", "neutral"},
      {Emotion::kSadness, "SAD", "sadness", "sad"},
  }};
  return kAll;
}

std::string_view EmotionCode(Emotion e) { return AllEmotions()[EmotionIndex(e)].code; }
std::string_view EmotionName(Emotion e) { return AllEmotions()[EmotionIndex(e)].name; }

std::optional<Emotion> EmotionFromCode(std::string_view code) {
  for (const auto& info : AllEmotions())
    if (info.code == code) return info.emotion;
  return std::nullopt;
}

std::optional<Emotion> EmotionFromName(std::string_view name) {
  for (const auto& info : AllEmotions())
    if (info.name == name) return info.emotion;
  return std::nullopt;
}

std::optional<Emotion> EmotionFromCsvColumn(std::string_view column) {
  for (const auto& info : AllEmotions())
    if (info.csv_column == column) return info.emotion;
  return std::nullopt;
}

std::optional<Emotion> EmotionFromIndex(int index) {
  if (index < 0 || index >= kNumEmotions) return std::nullopt;
  return AllEmotions()[index].emotion;
}

}  // namespace avctl
