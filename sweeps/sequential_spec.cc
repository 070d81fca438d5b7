#include "sweeps/sequential_spec.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace avctl {
namespace {

constexpr const char* kPath = "sequential";

Status Invalid(const std::string& field, const std::string& msg) {
  const std::string path = JoinJsonPath(kPath, field);
  return Status::InvalidArgument(fmt::format("{}: {}", path, msg)).WithField(path);
}

}  // namespace

Result<SequentialSweep> ParseSequentialSweep(const Json& member, double alpha, int seeds, int partitions) {
  if (!member.is_object()) {
    return Status::InvalidArgument("sequential: expected an object such as {\"looks\": [5, 10, 15, 20]}, got " +
                                   DescribeJson(member)).WithField(kPath);
  }
  static const std::set<std::string> kKeys = {"looks", "spending", "futility", "beta", "strict", "release"};
  for (auto it = member.begin(); it != member.end(); ++it) {
    if (!kKeys.count(it.key())) return Invalid(it.key(), "unknown field");
  }
  SequentialSweep s;
  s.design.alpha = alpha;
  if (!member.contains("looks") || !member["looks"].is_array() || member["looks"].empty()) {
    return Invalid("looks", "expected a list of matched-pair counts such as [5, 10, 15, 20]");
  }
  const Json& looks = member["looks"];
  const int pairs = seeds * partitions;
  for (size_t k = 0; k < looks.size(); ++k) {
    const std::string field = fmt::format("looks[{}]", k);
    if (!looks[k].is_number_integer()) return Invalid(field, "expected a whole number of pairs, got " + DescribeJson(looks[k]));
    const int64_t n = looks[k].get<int64_t>();
    if (n < 2 || n > pairs) {
      return Invalid(field, fmt::format("expected 2 to {} pairs (the sweep's {} seed(s) x {} partition(s)), got {}",
                                        pairs, seeds, partitions, n));
    }
    if (n % partitions != 0) {
      return Invalid(field, fmt::format("stages release whole seeds: a look must be a multiple of the {} "
                                        "partitions, got {} pairs", partitions, n));
    }
    s.design.looks.push_back(static_cast<int>(n));
  }
  if (s.design.looks.back() != pairs) {
    return Invalid(fmt::format("looks[{}]", looks.size() - 1),
                   fmt::format("the last look must be the sweep's pairs: {} seed(s) x {} partition(s) = {}, got {}",
                               seeds, partitions, pairs, s.design.looks.back()));
  }
  auto spending = GetStringOr(member, "spending", kPath, "obrien_fleming");
  if (!spending.ok()) return spending.status();
  auto parsed = ParseAlphaSpending(*spending);
  if (!parsed.ok()) return Invalid("spending", parsed.status().message());
  s.design.spending = *parsed;
  auto futility = GetStringOr(member, "futility", kPath, "none");
  if (!futility.ok()) return futility.status();
  if (*futility != "none" && *futility != "non_binding") {
    return Invalid("futility", fmt::format("expected \"none\" or \"non_binding\", got \"{}\"", *futility));
  }
  s.design.futility = *futility == "non_binding";
  if (member.contains("beta")) {
    auto beta = GetNumber(member, "beta", kPath);
    if (!beta.ok()) return beta.status();
    if (!s.design.futility) return Invalid("beta", "only with \"futility\": \"non_binding\"");
    s.design.beta = *beta;
  }
  if (member.contains("strict")) {
    auto strict = GetBool(member, "strict", kPath);
    if (!strict.ok()) return strict.status();
    s.design.strict = *strict;
  }
  auto release = GetStringOr(member, "release", kPath, "held");
  if (!release.ok()) return release.status();
  if (*release != "held" && *release != "speculative") {
    return Invalid("release", fmt::format("expected \"held\" or \"speculative\", got \"{}\"", *release));
  }
  s.release = *release == "held" ? StageRelease::kHeld : StageRelease::kSpeculative;
  // The design's own checks (increasing looks, alpha, beta), under this path.
  if (Status d = CheckSequentialDesignSpec(s.design); !d.ok()) {
    if (d.field() == "alpha") {
      return Status::InvalidArgument(fmt::format("alpha: a sequential sweep needs a one-sided alpha below 0.5; {}",
                                                 d.message())).WithField("alpha");
    }
    return Invalid(d.field(), d.message());
  }
  return s;
}

Json SequentialSweepToJson(const SequentialSweep& s) {
  Json j = {{"looks", s.design.looks},
            {"spending", AlphaSpendingName(s.design.spending)},
            {"futility", s.design.futility ? "non_binding" : "none"},
            {"strict", s.design.strict},
            {"release", s.release == StageRelease::kHeld ? "held" : "speculative"}};
  if (s.design.futility) j["beta"] = s.design.beta;
  return j;
}

int StageOfSeed(const SequentialDesignSpec& design, int seed_index, int partitions) {
  const int per = std::max(partitions, 1);
  for (size_t k = 0; k < design.looks.size(); ++k) {
    if (seed_index < design.looks[k] / per) return static_cast<int>(k);
  }
  return design.looks.empty() ? 0 : static_cast<int>(design.looks.size()) - 1;
}

}  // namespace avctl
