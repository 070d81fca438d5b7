// The trainer tests' shared ground: a tiny synthetic store made once per
// test program, small models of every variant, and the bit-for-bit
// comparison of two results.
#pragma once

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "store/feature_store.h"
#include "store/synth.h"
#include "worker/torch_process.h"
#include "worker/trainer.h"

namespace avctl {

inline ModelConfig SmallModel(const std::string& variant) {
  ModelConfig m = VariantPreset(variant)->model;
  m.heads = 2;
  m.cross_layers = 1;
  m.self_layers = 1;
  m.aux_repeats = 1;
  if (m.d_model > 0) m.d_model = 8;
  return m;
}

// As `avworker train` runs a job: the process set up for it, then TrainJob.
inline Result<TrainResult> SetUpAndTrain(const JobConfig& job, const FeatureStore& store, Logger* log,
                                         const TrainHooks& hooks = {}) {
  AVCTL_ASSIGN_OR_RETURN(TorchProcess process, SetUpTorchProcess(job));
  return TrainJob(job, process, store, log, hooks);
}

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string((std::filesystem::path(::testing::TempDir()) /
                            ("avctl-trainer-" + std::to_string(::getpid()))).string());
    Logger log(stderr, LogLevel::kError);
    SynthOptions o;
    for (int p = 1; p <= 5; ++p) {
      o.label_files.push_back(std::string(AVCTL_SOURCE_DIR) + "/data/crema-d/partition_" + std::to_string(p) + ".csv");
    }
    o.out_dir = *dir_;
    o.profile = SynthProfile::kTiny;
    o.overwrite = true;
    ASSERT_TRUE(SynthesizeStore(o, &log).ok());
    store_ = FeatureStore::Open(*dir_).value().release();
  }
  static void TearDownTestSuite() {
    delete store_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static JobConfig Job(const std::string& variant, int epochs) {
    JobConfig j = *VariantPreset(variant);
    j.model = SmallModel(variant);
    j.train.epochs = epochs;
    j.threads = 1;  // ctest runs test processes in parallel: do not oversubscribe the cores
    j.seed = 11;
    return j;
  }

  static inline std::string* dir_ = nullptr;
  static inline FeatureStore* store_ = nullptr;
};

// Everything a result holds that training computes, compared bit for bit.
inline void ExpectSameBits(const TrainResult& a, const TrainResult& b, const std::string& what) {
  ASSERT_EQ(a.epochs.size(), b.epochs.size()) << what;
  for (size_t e = 0; e < a.epochs.size(); ++e) {
    EXPECT_EQ(a.epochs[e].train_loss, b.epochs[e].train_loss) << what << " epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].train_uns, b.epochs[e].train_uns) << what;
    EXPECT_EQ(a.epochs[e].costs, b.epochs[e].costs) << what;
    EXPECT_EQ(a.epochs[e].dev_loss, b.epochs[e].dev_loss) << what;
    EXPECT_EQ(a.epochs[e].train_sup, b.epochs[e].train_sup) << what;
    EXPECT_EQ(a.epochs[e].dev_macro_f1, b.epochs[e].dev_macro_f1) << what;
    EXPECT_EQ(a.epochs[e].lr, b.epochs[e].lr) << what;
    EXPECT_EQ(a.epochs[e].train_clips, b.epochs[e].train_clips) << what;
  }
  EXPECT_EQ(a.selected_epoch, b.selected_epoch) << what;
  EXPECT_EQ(a.test.predictions, b.test.predictions) << what;
  EXPECT_EQ(a.test.probabilities, b.test.probabilities) << what;
  EXPECT_EQ(a.dev.loss, b.dev.loss) << what;
  EXPECT_EQ(a.test.loss, b.test.loss) << what;
  EXPECT_EQ(a.test.confusion, b.test.confusion) << what;
}

}  // namespace avctl
