// Group-sequential designs for a one-sided test looked at K times: Lan &
// DeMets (1983) alpha spending with the O'Brien-Fleming-type and
// Pocock-type functions (rpact's typeOfDesign "asOF" and "asP", not the
// classical "OF"/"P"), efficacy bounds by the Jennison & Turnbull recursion
// (common/crossing_probability.h), and optional non-binding futility bounds
// by O'Brien-Fleming-type beta spending (rpact's typeBetaSpending "bsOF",
// bindingFutility = FALSE). The values equal rpact's
// getDesignGroupSequential to 1e-6 (tests/common/sequential_design_test.cc
// keeps them and the R commands). Pure code.
//
// Looks are counted in matched pairs: information fraction t_k = n_k / n_K.
// The test at look k rejects when Z_k >= efficacy_z[k], i.e. when the
// one-sided p-value is at most nominal_alpha[k]; with futility, it stops
// without rejecting when Z_k < futility_z[k]. For the paired t-test the
// standard rule (rpact's) applies each look's nominal level to the t-test's
// p-value: efficacy_t[k] is that level's t quantile at n_k - 1 degrees of
// freedom. At small n this lets the type I error exceed alpha slightly
// (0.0519 at alpha 0.05 with looks at 5, 10, 15, 20 pairs: 10^7 simulated
// null paths, tests/common/sequential_simulation_test.cc). Strict mode
// replaces the t-scale efficacy bounds with ones calibrated on simulated
// null paths of the paired t statistics (common/sequential_simulation.h),
// which keeps the type I error at or below alpha.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace avctl {

enum class AlphaSpending { kOBrienFleming, kPocock };

const char* AlphaSpendingName(AlphaSpending s);  // "obrien_fleming", "pocock"
Result<AlphaSpending> ParseAlphaSpending(const std::string& name);

// Cumulative alpha spent by information fraction t in [0, 1], one-sided:
// O'Brien-Fleming type 2 (1 - Phi(z_{1 - alpha/2} / sqrt(t))), Pocock type
// alpha ln(1 + (e - 1) t).
double AlphaSpent(AlphaSpending s, double alpha, double t);
// Cumulative beta spent, O'Brien-Fleming type: 2 (1 - Phi(z_{1 - beta/2} / sqrt(t))).
double BetaSpent(double beta, double t);

struct SequentialDesignSpec {
  std::vector<int> looks;  // matched pairs at each look, strictly increasing, the first >= 2
  double alpha = 0.05;     // one-sided, in (0, 0.5)
  AlphaSpending spending = AlphaSpending::kOBrienFleming;
  bool futility = false;   // non-binding futility bounds by beta spending
  double beta = 0.2;       // with futility: 1 - the power the bounds are built for, in (0, 1 - alpha)
  bool strict = false;     // t-scale efficacy bounds calibrated by simulation (kStrictCalibrationPaths)
};

inline constexpr uint64_t kStrictCalibrationSeed = 20230604;  // fixed: a design's bounds never change

struct SequentialDesign {
  SequentialDesignSpec spec;
  std::vector<double> information;    // t_k = n_k / n_K
  std::vector<double> efficacy_z;     // reject at look k when Z_k >= efficacy_z[k]
  std::vector<double> alpha_spent;    // cumulative, under no effect, futility ignored
  // The level for look k's one-sided p-value: 1 - Phi(efficacy_z[k]); in
  // strict mode the t distribution's upper tail at efficacy_t[k].
  std::vector<double> nominal_alpha;
  std::vector<double> efficacy_t;     // the paired t-test's bound at n_k - 1 df
  // With futility only (else empty); the last equals efficacy_z's last.
  std::vector<double> futility_z;       // stop for futility at look k when Z_k < futility_z[k]
  std::vector<double> futility_t;       // the same on the t scale at n_k - 1 df
  std::vector<double> beta_spent;       // cumulative, under `drift`
  std::vector<double> power;            // cumulative rejection probability under `drift`
  double drift = 0;  // the effect (E[Z_K]) at which the design's power is 1 - beta
};

// Errors name the field at fault: "looks", "looks[i]", "alpha", "beta".
Status CheckSequentialDesignSpec(const SequentialDesignSpec& spec);
Result<SequentialDesign> MakeSequentialDesign(const SequentialDesignSpec& spec);

}  // namespace avctl
