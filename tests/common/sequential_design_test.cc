#include "common/sequential_design.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/crossing_probability.h"

namespace avctl {
namespace {

// The looks of a case: K looks equally spaced in pairs (the information
// rates rpact takes by default) or unequally (3, 8, 20), scaled to 60 pairs.
std::vector<int> LooksFor(const std::vector<double>& information) {
  std::vector<int> looks;
  for (double t : information) looks.push_back(static_cast<int>(std::lround(t * 60)));
  return looks;
}

struct EfficacyCase {
  std::string name;
  std::vector<double> information, critical, alpha_spent, stage_levels;
};

// Reference: rpact 3.3.4 (Debian 12's r-cran-rpact), getDesignGroupSequential,
// printed by this R script (Rscript FILE):
//   library(rpact)
//   show <- function(tag, d) {
//     cat(sprintf("{\"%s\", {%s}, {%s}, {%s}, {%s}},\n", tag,
//         paste(sprintf("%.10g", d$informationRates), collapse=", "),
//         paste(sprintf("%.10g", d$criticalValues), collapse=", "),
//         paste(sprintf("%.10g", d$alphaSpent), collapse=", "),
//         paste(sprintf("%.10g", d$stageLevels), collapse=", ")))
//   }
//   for (alpha in c(0.025, 0.05)) for (type in c("asOF", "asP")) {
//     for (K in 2:5) show(sprintf("%s a=%g K=%d", type, alpha, K), getDesignGroupSequential(kMax=K, alpha=alpha, sided=1, typeOfDesign=type))
//     show(sprintf("%s a=%g looks 3,8,20", type, alpha), getDesignGroupSequential(kMax=3, alpha=alpha, sided=1, typeOfDesign=type, informationRates=c(3,8,20)/20))
//   }
const std::vector<EfficacyCase> kRpactEfficacy = {
    {"asOF a=0.025 K=2", {0.5, 1}, {2.962588043, 1.968595646}, {0.001525322758, 0.02499999}, {0.001525322758, 0.02449977146}},
    {"asOF a=0.025 K=3", {0.3333333333, 0.6666666667, 1}, {3.710302873, 2.511427484, 1.993047483}, {0.0001035057181, 0.006048389077, 0.02499999}, {0.0001035057181, 0.006012199377, 0.02312812392}},
    {"asOF a=0.025 K=4", {0.25, 0.5, 0.75, 1}, {4.332633646, 2.963131599, 2.359044276, 2.014090143}, {7.366808436e-06, 0.001525322757, 0.009649325119, 0.025}, {7.366808436e-06, 0.001522631723, 0.009161034786, 0.02200003511}},
    {"asOF a=0.025 K=5", {0.2, 0.4, 0.6, 0.8, 1}, {4.876884949, 3.357011922, 2.680280067, 2.289816774, 2.031032063}, {5.388712629e-07, 0.0003941517591, 0.003808063251, 0.01221179019, 0.02499999}, {5.388712629e-07, 0.0003939485764, 0.003678029285, 0.01101597017, 0.02112587109}},
    {"asOF a=0.025 looks 3,8,20", {0.15, 0.4, 1}, {5.669669602, 3.356871329, 1.962268211}, {7.153657888e-09, 0.0003941517539, 0.02499999}, {7.153657888e-09, 0.0003941489439, 0.02486563309}},
    {"asP a=0.025 K=2", {0.5, 1}, {2.156999218, 2.200976975}, {0.01550286267, 0.02499999}, {0.01550286267, 0.01386882694}},
    {"asP a=0.025 K=3", {0.3333333333, 0.6666666667, 1}, {2.279428239, 2.294911139, 2.295939587}, {0.01132081063, 0.01908456281, 0.02499999}, {0.01132081063, 0.01086910867, 0.01083966793}},
    {"asP a=0.025 K=4", {0.25, 0.5, 0.75, 1}, {2.368327704, 2.367524289, 2.358168311, 2.350035973}, {0.008934350488, 0.01550286282, 0.02069972348, 0.02499999}, {0.008934350488, 0.008953772287, 0.009182681976, 0.009385798401}},
    {"asP a=0.025 K=5", {0.2, 0.4, 0.6, 0.8, 1}, {2.437976688, 2.426813863, 2.410194136, 2.396649294, 2.385999702}, {0.007384863228, 0.01307842901, 0.01771282677, 0.02162099305, 0.025}, {0.007384863228, 0.007616034282, 0.007972016977, 0.008272875804, 0.008516382434}},
    {"asP a=0.025 looks 3,8,20", {0.15, 0.4, 1}, {2.528169034, 2.383379616, 2.179629378}, {0.005732956697, 0.01307842915, 0.02499999}, {0.005732956697, 0.008577247103, 0.01464247266}},
    {"asOF a=0.05 K=2", {0.5, 1}, {2.537987603, 1.662106581}, {0.005574596681, 0.05}, {0.005574596681, 0.04824570314}},
    {"asOF a=0.05 K=3", {0.3333333333, 0.6666666667, 1}, {3.200101972, 2.140815236, 1.694811963}, {0.0006868948682, 0.01637466662, 0.05}, {0.0006868948682, 0.01614447041, 0.04505554872}},
    {"asOF a=0.05 K=4", {0.25, 0.5, 0.75, 1}, {3.749551837, 2.53994257, 2.016069852, 1.720177077}, {8.857543832e-05, 0.005574596731, 0.02362512131, 0.04999999}, {8.857543832e-05, 0.005543533635, 0.02189633603, 0.04270012927}},
    {"asOF a=0.05 K=5", {0.2, 0.4, 0.6, 0.8, 1}, {4.229195059, 2.888136543, 2.298090287, 1.961821474, 1.739704512}, {1.172644684e-05, 0.001941913034, 0.01139641836, 0.02842963051, 0.05}, {1.172644684e-05, 0.001937658028, 0.01077832549, 0.02489163633, 0.04095545833}},
    {"asOF a=0.05 looks 3,8,20", {0.15, 0.4, 1}, {4.92680397, 2.88747225, 1.651022784}, {4.179276857e-07, 0.001941912962, 0.05}, {4.179276857e-07, 0.001941754306, 0.04936696129}},
    {"asP a=0.05 K=2", {0.5, 1}, {1.86621386, 1.88487532}, {0.03100572535, 0.04999999}, {0.03100572535, 0.02972333645}},
    {"asP a=0.05 K=3", {0.3333333333, 0.6666666667, 1}, {2.002013845, 1.993796818, 1.980304219}, {0.02264162126, 0.03816912558, 0.05}, {0.02264162126, 0.02308713174, 0.02383467752}},
    {"asP a=0.05 K=4", {0.25, 0.5, 0.75, 1}, {2.099902692, 2.076711811, 2.053162806, 2.034768663}, {0.01786870098, 0.03100572559, 0.0413994471, 0.05}, {0.01786870098, 0.01891408291, 0.02002839519, 0.02093707778}},
    {"asP a=0.05 K=5", {0.2, 0.4, 0.6, 0.8, 1}, {2.176211453, 2.14374771, 2.113285266, 2.0895992, 2.070998423}, {0.01476972646, 0.02615685828, 0.03542565346, 0.04324198636, 0.04999999}, {0.01476972646, 0.01602655359, 0.01728817953, 0.01832690925, 0.01917947172}},
    {"asP a=0.05 looks 3,8,20", {0.15, 0.4, 1}, {2.274568513, 2.101986341, 1.86800652}, {0.01146591339, 0.02615685842, 0.05}, {0.01146591339, 0.01777723616, 0.03088058107}},
};

TEST(SequentialDesign, EfficacyBoundsAlphaSpentAndNominalLevelsEqualRpact) {
  for (const EfficacyCase& c : kRpactEfficacy) {
    SequentialDesignSpec spec;
    spec.looks = LooksFor(c.information);
    spec.alpha = c.alpha_spent.back() > 0.03 ? 0.05 : 0.025;
    spec.spending = c.name.rfind("asP", 0) == 0 ? AlphaSpending::kPocock : AlphaSpending::kOBrienFleming;
    auto d = MakeSequentialDesign(spec);
    ASSERT_TRUE(d.ok()) << c.name << ": " << d.status().ToString();
    ASSERT_EQ(d->efficacy_z.size(), c.critical.size()) << c.name;
    for (size_t k = 0; k < c.critical.size(); ++k) {
      EXPECT_NEAR(d->information[k], c.information[k], 1e-9) << c.name << " look " << k;
      EXPECT_NEAR(d->efficacy_z[k], c.critical[k], 1e-6) << c.name << " look " << k;
      EXPECT_NEAR(d->alpha_spent[k], c.alpha_spent[k], 1e-7) << c.name << " look " << k;
      EXPECT_NEAR(d->nominal_alpha[k], c.stage_levels[k], 1e-7) << c.name << " look " << k;
    }
    EXPECT_TRUE(d->futility_z.empty());
  }
}

struct FutilityCase {
  std::string name;
  std::vector<double> information, critical, futility, beta_spent, power;
};

// Reference: rpact 3.3.4, getDesignGroupSequential with typeBetaSpending
// "bsOF" and bindingFutility = FALSE (rpact prints K - 1 futility bounds;
// the last look's equals its critical value), printed by:
//   library(rpact)
//   show <- function(tag, d) {
//     cat(sprintf("{\"%s\", {%s}, {%s}, {%s}, {%s}},\n", tag,
//         paste(sprintf("%.10g", d$informationRates), collapse=", "),
//         paste(sprintf("%.10g", d$criticalValues), collapse=", "),
//         paste(sprintf("%.10g", d$futilityBounds), collapse=", "),
//         paste(sprintf("%.10g", d$betaSpent), collapse=", ")))
//     cat(sprintf("  power {%s}\n", paste(sprintf("%.10g", d$power), collapse=", ")))
//   }
//   for (type in c("asOF", "asP")) for (alpha in c(0.025, 0.05)) {
//     for (K in c(3, 4)) show(sprintf("%s a=%g K=%d beta=0.2", type, alpha, K), getDesignGroupSequential(kMax=K, alpha=alpha, sided=1, typeOfDesign=type, typeBetaSpending="bsOF", beta=0.2, bindingFutility=FALSE))
//     show(sprintf("%s a=%g looks 3,8,20 beta=0.1", type, alpha), getDesignGroupSequential(kMax=3, alpha=alpha, sided=1, typeOfDesign=type, informationRates=c(3,8,20)/20, typeBetaSpending="bsOF", beta=0.1, bindingFutility=FALSE))
//   }
const std::vector<FutilityCase> kRpactFutility = {
    {"asOF a=0.025 K=3 beta=0.2", {0.3333333333, 0.6666666667, 1}, {3.710302873, 2.511427484, 1.993047483}, {-0.2361446099, 1.170372031}, {0.02643829477, 0.116514319, 0.1999999988}, {0.02218808806, 0.4572907489, 0.7999999994}},
    {"asOF a=0.025 K=4 beta=0.2", {0.25, 0.5, 0.75, 1}, {4.332633646, 2.963131599, 2.359044276, 2.014090143}, {-0.8202858782, 0.6098060827, 1.401698624}, {0.01037412274, 0.06992632675, 0.1389244174, 0.1999999984}, {0.002252955747, 0.1969605395, 0.591204011, 0.8000000003}},
    {"asOF a=0.025 looks 3,8,20 beta=0.1", {0.15, 0.4, 1}, {5.669669602, 3.356871329, 1.962268211}, {-2.826546444, -0.2921664049}, {2.166579518e-05, 0.009302240196, 0.1000000017}, {5.234364138e-06, 0.09759776188, 0.8999999998}},
    {"asOF a=0.05 K=3 beta=0.2", {0.3333333333, 0.6666666667, 1}, {3.200101972, 2.140815236, 1.694811963}, {-0.4153652993, 0.9169418826}, {0.02643829477, 0.1165143182, 0.1999999981}, {0.04652344061, 0.5045111742, 0.8000000002}},
    {"asOF a=0.05 K=4 beta=0.2", {0.25, 0.5, 0.75, 1}, {3.749551837, 2.53994257, 2.016069852, 1.720177077}, {-0.9761008333, 0.3894505198, 1.132205843}, {0.01037412288, 0.06992632702, 0.1389244188, 0.2000000018}, {0.007908345529, 0.2581737344, 0.6215899051, 0.7999999995}},
    {"asOF a=0.05 looks 3,8,20 beta=0.1", {0.15, 0.4, 1}, {4.92680397, 2.88747225, 1.651022784}, {-2.947673542, -0.4899661359}, {2.166579482e-05, 0.009302239829, 0.09999999832}, {7.669379939e-05, 0.1529763795, 0.9000000007}},
    {"asP a=0.025 K=3 beta=0.2", {0.3333333333, 0.6666666667, 1}, {2.279428239, 2.294911139, 2.295939587}, {-0.1264970121, 1.333451226}, {0.02643829494, 0.1165143195, 0.2000000003}, {0.3191782866, 0.6319650696, 0.8000000005}},
    {"asP a=0.025 K=4 beta=0.2", {0.25, 0.5, 0.75, 1}, {2.368327704, 2.367524289, 2.358168311, 2.350035973}, {-0.7183030997, 0.7550625908, 1.599945233}, {0.01037412288, 0.06992632721, 0.1389244181, 0.2000000017}, {0.219436925, 0.4858112784, 0.6923282935, 0.7999999992}},
    {"asP a=0.025 looks 3,8,20 beta=0.1", {0.15, 0.4, 1}, {2.528169034, 2.383379616, 2.179629378}, {-2.758164577, -0.180421269}, {2.1665795e-05, 0.009302239986, 0.09999999971}, {0.1155800294, 0.4353834163, 0.8999999995}},
    {"asP a=0.05 K=3 beta=0.2", {0.3333333333, 0.6666666667, 1}, {2.002013845, 1.993796818, 1.980304219}, {-0.3212845167, 1.060708915}, {0.02643829512, 0.1165143199, 0.2000000011}, {0.3492408086, 0.6460810759, 0.8000000003}},
    {"asP a=0.05 K=4 beta=0.2", {0.25, 0.5, 0.75, 1}, {2.099902692, 2.076711811, 2.053162806, 2.034768663}, {-0.8888305842, 0.5144403814, 1.311116154}, {0.01037412288, 0.06992632694, 0.1389244179, 0.2000000008}, {0.2494572284, 0.5103219972, 0.701488762, 0.8000000004}},
    {"asP a=0.05 looks 3,8,20 beta=0.1", {0.15, 0.4, 1}, {2.274568513, 2.101986341, 1.86800652}, {-2.883237692, -0.3846015199}, {2.166579482e-05, 0.009302239864, 0.09999999877}, {0.1425689645, 0.4696345893, 0.9}},
};

TEST(SequentialDesign, NonBindingFutilityBoundsBetaSpentAndPowerEqualRpact) {
  for (const FutilityCase& c : kRpactFutility) {
    SequentialDesignSpec spec;
    spec.looks = LooksFor(c.information);
    spec.alpha = c.name.find("a=0.05") != std::string::npos ? 0.05 : 0.025;
    spec.spending = c.name.rfind("asP", 0) == 0 ? AlphaSpending::kPocock : AlphaSpending::kOBrienFleming;
    spec.futility = true;
    spec.beta = c.name.find("beta=0.1") != std::string::npos ? 0.1 : 0.2;
    auto d = MakeSequentialDesign(spec);
    ASSERT_TRUE(d.ok()) << c.name << ": " << d.status().ToString();
    ASSERT_EQ(d->futility_z.size(), c.critical.size()) << c.name;
    for (size_t k = 0; k < c.critical.size(); ++k) {
      EXPECT_NEAR(d->efficacy_z[k], c.critical[k], 1e-6) << c.name << " look " << k;
      if (k + 1 < c.critical.size()) {
        EXPECT_NEAR(d->futility_z[k], c.futility[k], 1e-5) << c.name << " look " << k;
      }
      EXPECT_NEAR(d->beta_spent[k], c.beta_spent[k], 1e-6) << c.name << " look " << k;
      EXPECT_NEAR(d->power[k], c.power[k], 1e-6) << c.name << " look " << k;
    }
    EXPECT_DOUBLE_EQ(d->futility_z.back(), d->efficacy_z.back()) << c.name;
  }
}

// Reference: R's qt at each look's n - 1 df of rpact's stage levels, looks
// at 5, 10, 15, 20 pairs:
//   d <- getDesignGroupSequential(kMax = 4, alpha = 0.05, sided = 1, typeOfDesign = "asOF",
//                                 informationRates = c(5, 10, 15, 20) / 20)
//   qt(1 - d$stageLevels, df = c(5, 10, 15, 20) - 1)
//   d2 <- getDesignGroupSequential(kMax = 4, alpha = 0.05, sided = 1, typeOfDesign = "asOF",
//                                  informationRates = c(5, 10, 15, 20) / 20, typeBetaSpending = "bsOF",
//                                  beta = 0.2, bindingFutility = FALSE)
//   qt(pnorm(d2$futilityBounds), df = c(5, 10, 15) - 1)
TEST(SequentialDesign, TScaleBoundsAreEachLooksLevelAtItsDegreesOfFreedom) {
  SequentialDesignSpec spec;
  spec.looks = {5, 10, 15, 20};
  spec.futility = true;
  auto d = MakeSequentialDesign(spec);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const std::vector<double> efficacy_t = {13.44275764, 3.185462454, 2.215681793, 1.814644025};
  const std::vector<double> futility_t = {-1.11056356, 0.4021698261, 1.180298091};
  for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(d->efficacy_t[k], efficacy_t[k], 1e-5 * efficacy_t[k]) << k;
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(d->futility_t[k], futility_t[k], 1e-5) << k;
  EXPECT_DOUBLE_EQ(d->futility_t[3], d->efficacy_t[3]);
}

TEST(SequentialDesign, ASingleLookIsTheFixedTest) {
  SequentialDesignSpec spec;
  spec.looks = {20};
  auto d = MakeSequentialDesign(spec);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_NEAR(d->efficacy_z[0], 1.6448536269514722, 1e-9);  // qnorm(0.95)
  EXPECT_NEAR(d->nominal_alpha[0], 0.05, 1e-12);
  EXPECT_NEAR(d->efficacy_t[0], 1.729132811521367, 1e-8);  // qt(0.95, 19)
}

TEST(SequentialDesign, CrossingProbabilitiesOfTheBoundsAddUpToAlphaAndOne) {
  SequentialDesignSpec spec;
  spec.looks = {3, 8, 12, 20};
  spec.spending = AlphaSpending::kPocock;
  auto d = MakeSequentialDesign(spec);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const std::vector<double> none(4, -kNoBound);
  const CrossingProbabilities p = CrossingProbabilitiesOf(d->information, none, d->efficacy_z, 0);
  double total = 0;
  for (size_t k = 0; k < 4; ++k) {
    total += p.upper[k];
    EXPECT_NEAR(total, d->alpha_spent[k], 1e-9) << k;
    EXPECT_EQ(p.lower[k], 0) << k;
  }
  // With the last look's region closed (lower = upper there), every path ends.
  std::vector<double> lower = none;
  lower.back() = d->efficacy_z.back();
  const CrossingProbabilities q = CrossingProbabilitiesOf(d->information, lower, d->efficacy_z, 1.3);
  double ended = 0;
  for (size_t k = 0; k < 4; ++k) ended += q.upper[k] + q.lower[k];
  EXPECT_NEAR(ended, 1, 1e-7);  // the recursion's quadrature error (r = 32)
}

TEST(SequentialDesign, BadSpecsAreRefusedNamingTheField) {
  auto field_of = [](SequentialDesignSpec spec) {
    auto d = MakeSequentialDesign(spec);
    return d.ok() ? std::string("ok") : d.status().field();
  };
  SequentialDesignSpec spec;
  spec.looks = {};
  EXPECT_EQ(field_of(spec), "looks");
  spec.looks = {1, 10};
  EXPECT_EQ(field_of(spec), "looks[0]");
  spec.looks = {5, 10, 10};
  EXPECT_EQ(field_of(spec), "looks[2]");
  spec.looks = {5, 10};
  spec.alpha = 0.5;
  EXPECT_EQ(field_of(spec), "alpha");
  spec.alpha = 0.05;
  spec.futility = true;
  spec.beta = 0.96;
  EXPECT_EQ(field_of(spec), "beta");
  spec.beta = 0.2;
  EXPECT_EQ(field_of(spec), "ok");
  EXPECT_FALSE(ParseAlphaSpending("obrien-fleming").ok());
  EXPECT_EQ(*ParseAlphaSpending("pocock"), AlphaSpending::kPocock);
  EXPECT_STREQ(AlphaSpendingName(*ParseAlphaSpending("obrien_fleming")), "obrien_fleming");
}

}  // namespace
}  // namespace avctl
