// Group-sequential designs for the paired t-test, by seeded simulation:
// power (the share of paths that reject) and expected pairs per design at
// several true effects (mean difference in sd units of the paired
// differences), against the fixed design of the same maximum pairs
// simulated on the same paths (same seed). Prints a markdown table.
//
//   build/bin/sequential_bench [--looks 5,10,15,20] [--alpha 0.05] [--paths 200000] [--seed 1]
//                              [--effects 0,0.5,1] [--beta 0.2]
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/sequential_design.h"
#include "common/sequential_simulation.h"
#include "common/text.h"

namespace {

std::vector<double> Numbers(const std::string& list) {
  std::vector<double> out;
  for (const auto& part : avctl::SplitOn(list, ',')) out.push_back(std::atof(std::string(part).c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> looks = {5, 10, 15, 20};
  std::vector<double> effects = {0, 0.5, 1.0};
  double alpha = 0.05, beta = 0.2;
  int paths = 200000;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--looks") {
      looks.clear();
      for (double v : Numbers(value)) looks.push_back(static_cast<int>(v));
    } else if (flag == "--alpha") {
      alpha = std::atof(value.c_str());
    } else if (flag == "--beta") {
      beta = std::atof(value.c_str());
    } else if (flag == "--paths") {
      paths = std::atoi(value.c_str());
    } else if (flag == "--seed") {
      seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--effects") {
      effects = Numbers(value);
    } else {
      std::cerr << "sequential_bench: unknown flag " << flag << "\n";
      return 2;
    }
  }
  struct Named {
    std::string name;
    avctl::SequentialDesignSpec spec;
    bool futility_applied;
  };
  avctl::SequentialDesignSpec base;
  base.looks = looks;
  base.alpha = alpha;
  base.beta = beta;
  std::vector<Named> designs;
  {
    avctl::SequentialDesignSpec fixed = base;
    fixed.looks = {looks.back()};
    designs.push_back({fmt::format("fixed {} pairs", looks.back()), fixed, false});
  }
  for (auto spending : {avctl::AlphaSpending::kOBrienFleming, avctl::AlphaSpending::kPocock}) {
    for (bool strict : {false, true}) {
      avctl::SequentialDesignSpec s = base;
      s.spending = spending;
      s.strict = strict;
      designs.push_back({fmt::format("{}{}", avctl::AlphaSpendingName(spending), strict ? ", strict" : ""), s, false});
    }
    avctl::SequentialDesignSpec f = base;
    f.spending = spending;
    f.futility = true;
    designs.push_back({fmt::format("{}, non-binding futility (beta {})", avctl::AlphaSpendingName(spending), beta), f,
                       true});
  }
  std::string looks_text;
  for (int n : looks) looks_text += (looks_text.empty() ? "" : ", ") + std::to_string(n);
  std::cout << fmt::format("sequential_bench: looks at {} pairs, one-sided alpha {}, {} paths per cell, seed {}\n\n",
                           looks_text, alpha, paths, seed);
  std::cout << "| design | effect (sd) | reject | expected pairs | stops per look (efficacy / futility) | seconds |\n"
               "| --- | ---: | ---: | ---: | --- | ---: |\n";
  for (const Named& n : designs) {
    const auto t0 = std::chrono::steady_clock::now();
    auto d = avctl::MakeSequentialDesign(n.spec);
    if (!d.ok()) {
      std::cerr << "sequential_bench: " << d.status().ToString() << "\n";
      return 1;
    }
    const double design_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (double effect : effects) {
      const auto t1 = std::chrono::steady_clock::now();
      avctl::SimulationOptions o;
      o.paths = paths;
      o.seed = seed;
      o.futility = n.futility_applied;
      const auto r = avctl::SimulateSequentialTTest(*d, effect, o);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      std::string stops;
      for (size_t k = 0; k < r.stop_efficacy.size(); ++k) {
        stops += fmt::format("{}{:.3f}/{:.3f}", k ? " " : "", r.stop_efficacy[k], r.stop_futility[k]);
      }
      std::cout << fmt::format("| {} | {:.2f} | {:.4f} | {:.2f} | {} | {:.2f} (design {:.2f}) |\n", n.name, effect,
                               r.reject, r.expected_pairs, stops, s, design_s);
    }
  }
  return 0;
}
