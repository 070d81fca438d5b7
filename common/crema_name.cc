#include "common/crema_name.h"

#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace avctl {

const std::array<std::string_view, 12>& CremaSentences() {
  static constexpr std::array<std::string_view, 12> kSentences = {
      "IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI"};
  return kSentences;
}

std::string_view IntensityLevelCode(IntensityLevel level) {
  switch (level) {
    case IntensityLevel::kLow: return "LO";
    case IntensityLevel::kMedium: return "MD";
    case IntensityLevel::kHigh: return "HI";
    case IntensityLevel::kUnspecified: return "XX";
  }
  return "XX";
}

Result<CremaClipName> ParseCremaClipName(std::string_view name) {
  std::string_view stem = name;
  if (auto slash = stem.find_last_of('/'); slash != std::string_view::npos) stem.remove_prefix(slash + 1);
  if (auto dot = stem.find('.'); dot != std::string_view::npos) stem = stem.substr(0, dot);

  auto bad = [&](const char* field, const std::string& why) {
    return Status::InvalidArgument(fmt::format("bad CREMA-D clip name '{}': {}", name, why)).WithField(field);
  };

  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t us = stem.find('_', start);
    parts.push_back(stem.substr(start, us == std::string_view::npos ? std::string_view::npos : us - start));
    if (us == std::string_view::npos) break;
    start = us + 1;
  }
  if (parts.size() != 4) {
    return bad("name", fmt::format("expected ACTOR_SENTENCE_EMOTION_LEVEL (4 parts separated by '_'), got {} part(s)",
                                   parts.size()));
  }

  CremaClipName out;
  out.stem = std::string(stem);

  int actor = 0;
  auto [ptr, ec] = std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), actor);
  if (ec != std::errc() || ptr != parts[0].data() + parts[0].size()) {
    return bad("actor", fmt::format("actor '{}' is not a number", parts[0]));
  }
  if (actor < kFirstCremaActor || actor > kLastCremaActor) {
    return bad("actor", fmt::format("actor {} outside {}..{}", actor, kFirstCremaActor, kLastCremaActor));
  }
  out.actor = actor;

  bool known_sentence = false;
  for (auto s : CremaSentences()) known_sentence |= (s == parts[1]);
  if (!known_sentence) return bad("sentence", fmt::format("unknown sentence code '{}'", parts[1]));
  out.sentence = std::string(parts[1]);

  auto emotion = EmotionFromCode(parts[2]);
  if (!emotion) return bad("emotion", fmt::format("unknown emotion code '{}' (expected ANG, DIS, FEA, HAP, NEU or SAD)", parts[2]));
  out.emotion = *emotion;

  if (parts[3] == "LO") out.level = IntensityLevel::kLow;
  else if (parts[3] == "MD") out.level = IntensityLevel::kMedium;
  else if (parts[3] == "HI") out.level = IntensityLevel::kHigh;
  else if (parts[3] == "XX") out.level = IntensityLevel::kUnspecified;
  else return bad("level", fmt::format("unknown intensity level '{}' (expected LO, MD, HI or XX)", parts[3]));
  return out;
}

}  // namespace avctl
