// Resuming a training run from its checkpoints (issue 17): a run stopped at
// an epoch end or between two steps and resumed from its checkpoint ends
// with the same bits as a run that never stopped (CPU, one thread); damaged
// checkpoints and checkpoints of other jobs are skipped with their reason.
#include <atomic>
#include <filesystem>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "tests/worker/trainer_fixture.h"
#include "worker/checkpoint_file.h"
#include "worker/train_checkpoint.h"
#include "worker/trainer.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

class ResumeTest : public TrainerTest {
 protected:
  void SetUp() override {
    ckpt_ = fs::path(::testing::TempDir()) / ("avctl-resume-" + std::to_string(::getpid()));
    fs::remove_all(ckpt_);
  }
  void TearDown() override { fs::remove_all(ckpt_); }

  // Every random stream of a run in use: modality dropout, frame ablation,
  // a labeled subset, dropout and ladder noise.
  static JobConfig Streams(const std::string& variant) {
    JobConfig j = Job(variant, 4);
    j.key = "resume-test/" + variant;
    j.train.max_train_batches = 3;
    j.train.labeled_fraction = 0.5;
    j.model.visual_ablation = VisualAblation::kFrame;
    j.model.visual_ablation_p = 0.2;
    j.model.audio_dropout_p = 0.2;
    j.model.visual_dropout_p = 0.2;
    return j;
  }

  TrainHooks Checkpointed(int64_t attempt) {
    TrainHooks h;
    h.checkpoints.dir = ckpt_.string();
    h.checkpoints.attempt_id = attempt;
    h.stop = &stop_;
    return h;
  }

  fs::path ckpt_;
  std::atomic<bool> stop_{false};
};

TEST_F(ResumeTest, StoppedAtAnEpochEndAndResumedItEndsWithTheSameBits) {
  Logger log(stderr, LogLevel::kError);
  for (const std::string variant : {"ladder_av", "ps2020"}) {
    fs::remove_all(ckpt_);
    const JobConfig j = Streams(variant);
    auto reference = SetUpAndTrain(j, *store_, &log);
    ASSERT_TRUE(reference.ok()) << reference.status().ToString();
    EXPECT_FALSE(reference->resumed);

    stop_ = false;
    TrainHooks first = Checkpointed(7);
    first.on_epoch = [this](const EpochRecord& e) {
      if (e.epoch == 2) stop_ = true;
    };
    auto stopped = SetUpAndTrain(j, *store_, &log, first);
    ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
    EXPECT_TRUE(stopped->preempted);
    EXPECT_EQ(stopped->epochs.size(), 2u);
    EXPECT_EQ(stopped->checkpoints_written, 2);  // after epochs 1 and 2
    EXPECT_GT(stopped->checkpoint_bytes, 0);
    EXPECT_EQ(fs::path(stopped->last_checkpoint).filename(), "epoch-0002.ckpt");

    stop_ = false;
    std::vector<CheckpointEvent> events;
    TrainHooks second = Checkpointed(8);
    second.on_checkpoint = [&](const CheckpointEvent& e) { events.push_back(e); };
    auto resumed = SetUpAndTrain(j, *store_, &log, second);
    ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
    EXPECT_FALSE(resumed->preempted);
    EXPECT_TRUE(resumed->resumed);
    EXPECT_EQ(resumed->resumed_epochs, 2);
    EXPECT_EQ(resumed->resumed_attempt, 7);
    ASSERT_FALSE(events.empty());
    EXPECT_TRUE(events[0].resumed);
    EXPECT_EQ(events[0].epochs, 2);
    ExpectSameBits(*reference, *resumed, variant);
  }
}

TEST_F(ResumeTest, StoppedBetweenTwoStepsAndResumedItEndsWithTheSameBits) {
  Logger log(stderr, LogLevel::kError);
  const JobConfig j = Streams("ladder_av");
  auto reference = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(reference.ok());
  TrainHooks first = Checkpointed(1);
  first.progress = [this](const StepReport& s) {
    if (s.epoch == 3 && s.batch == 1) stop_ = true;
  };
  auto stopped = SetUpAndTrain(j, *store_, &log, first);
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_TRUE(stopped->preempted);
  EXPECT_EQ(fs::path(stopped->last_checkpoint).filename(), "epoch-0002-batch-0001.ckpt");
  stop_ = false;
  auto resumed = SetUpAndTrain(j, *store_, &log, Checkpointed(2));
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->resumed_epochs, 2);
  EXPECT_EQ(resumed->resumed_batches, 1);
  ExpectSameBits(*reference, *resumed, "mid-epoch");
  // The resumed epoch counts its clips from both attempts.
  EXPECT_EQ(resumed->epochs[2].train_clips, reference->epochs[2].train_clips);
}

TEST_F(ResumeTest, ADamagedCheckpointIsSkippedWithItsReasonAndTheOneBeforeItResumes) {
  Logger log(stderr, LogLevel::kError);
  const JobConfig j = Streams("ladder_av");
  auto reference = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(reference.ok());
  TrainHooks first = Checkpointed(1);
  first.on_epoch = [this](const EpochRecord& e) {
    if (e.epoch == 3) stop_ = true;
  };
  ASSERT_TRUE(SetUpAndTrain(j, *store_, &log, first).ok());
  const std::string newest = (ckpt_ / "epoch-0003.ckpt").string();
  std::string bytes = *ReadFileToString(newest);
  bytes[bytes.size() / 3] ^= 0x10;  // one bit flipped on disk
  ASSERT_TRUE(WriteFileAtomic(newest, bytes).ok());
  stop_ = false;
  auto resumed = SetUpAndTrain(j, *store_, &log, Checkpointed(2));
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->resumed_epochs, 2);
  ASSERT_EQ(resumed->skipped_checkpoints.size(), 1u);
  EXPECT_NE(resumed->skipped_checkpoints[0].find("epoch-0003.ckpt"), std::string::npos);
  EXPECT_NE(resumed->skipped_checkpoints[0].find("checksum mismatch"), std::string::npos);
  ExpectSameBits(*reference, *resumed, "after a damaged checkpoint");
}

TEST_F(ResumeTest, ACheckpointOfAnotherJobIsRefusedAndTheRunStartsFromScratch) {
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Streams("ladder_av");
  j.train.epochs = 2;
  TrainHooks first = Checkpointed(1);
  first.on_epoch = [this](const EpochRecord&) { stop_ = true; };
  ASSERT_TRUE(SetUpAndTrain(j, *store_, &log, first).ok());
  stop_ = false;
  JobConfig other = j;
  other.seed = j.seed + 1;  // same key, other settings: never resumed from the first one's state
  auto fresh = SetUpAndTrain(other, *store_, &log, Checkpointed(2));
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_FALSE(fresh->resumed);
  ASSERT_EQ(fresh->skipped_checkpoints.size(), 1u);
  EXPECT_NE(fresh->skipped_checkpoints[0].find("other settings"), std::string::npos);
  auto reference = SetUpAndTrain(other, *store_, &log);
  ASSERT_TRUE(reference.ok());
  ExpectSameBits(*reference, *fresh, "refused checkpoint");
}

TEST_F(ResumeTest, TheStateRoundTripsThroughItsSectionsExactly) {
  TrainState s;
  s.job_key = "k";
  s.config = {{"seed", 1}};
  s.code_version = "v";
  s.at = {3, 2};
  s.params = {torch::randn({4, 3}), torch::randn({2})};
  s.buffers = {torch::zeros({2})};
  s.adam_steps = 9;
  s.exp_avg = {torch::randn({4, 3}), torch::Tensor()};
  s.exp_avg_sq = {torch::rand({4, 3}), torch::Tensor()};
  s.param_steps = {9, 0};
  s.lr = 1e-3 / 3;
  s.selector.best = 0.123456789;  // plateau.best stays infinite
  s.modality_rng.s[2] = 0xFFFFFFFFFFFFFFFFULL;
  s.modality_rng.has_spare = true;
  s.modality_rng.spare = -0.5;
  s.cpu_generator = std::string("\0\1\2", 3);
  s.partial.cost_names = {"av/0"};
  s.partial.sums = {torch::ones({}, torch::kFloat64), torch::ones({}, torch::kFloat64),
                    torch::ones({}, torch::kFloat64), torch::zeros({}, torch::kInt64),
                    torch::zeros({}, torch::kFloat64), torch::full({}, 0.1, torch::kFloat64)};
  s.partial.clips = 64;
  const Checkpoint c = EncodeTrainState(s);
  auto back = DecodeTrainState(c, "x.ckpt");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->at.epochs, 3);
  EXPECT_EQ(back->at.batches, 2);
  EXPECT_TRUE(torch::equal(back->params[0], s.params[0]));
  EXPECT_FALSE(back->exp_avg[1].defined());
  EXPECT_TRUE(torch::equal(back->exp_avg_sq[0], s.exp_avg_sq[0]));
  EXPECT_EQ(back->lr, s.lr);
  EXPECT_EQ(back->selector.best, s.selector.best);
  EXPECT_TRUE(std::isinf(back->plateau.best));
  EXPECT_EQ(back->modality_rng.s[2], s.modality_rng.s[2]);
  EXPECT_EQ(back->modality_rng.spare, -0.5);
  EXPECT_EQ(back->cpu_generator, s.cpu_generator);
  EXPECT_EQ(back->partial.cost_names, s.partial.cost_names);
  EXPECT_EQ(back->partial.sums[5].item<double>(), 0.1);
  Checkpoint missing = c;
  missing.sections.erase("adam_exp_avg");
  auto bad = DecodeTrainState(missing, "x.ckpt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("adam_exp_avg"), std::string::npos);
  EXPECT_NE(bad.status().ToString().find("x.ckpt"), std::string::npos);
}

}  // namespace
}  // namespace avctl
