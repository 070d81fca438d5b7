#include "worker/store_batches.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/float16.h"
#include "store/synth.h"

namespace avctl {
namespace {

class StoreBatchesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::path(::testing::TempDir()) / ("avctl-batches-" + std::to_string(::getpid()))).string();
    Logger log(stderr, LogLevel::kError);
    SynthOptions o;
    for (int p = 1; p <= 2; ++p) {
      o.label_files.push_back(std::string(AVCTL_SOURCE_DIR) + "/data/crema-d/partition_" + std::to_string(p) + ".csv");
    }
    o.out_dir = dir_;
    o.profile = SynthProfile::kTiny;
    o.overwrite = true;
    ASSERT_TRUE(SynthesizeStore(o, &log).ok());
    auto s = FeatureStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<FeatureStore> store_;
};

TEST_F(StoreBatchesTest, PaddingIsMaskedAndZeroAndValuesAreNormalised) {
  auto batches = StoreBatches::Create(store_.get(), 2);
  ASSERT_TRUE(batches.ok());
  // Pick a short and a long clip so that one of them is padded.
  size_t shortest = 0, longest = 0;
  for (size_t i = 0; i < store_->num_clips(); ++i) {
    if (store_->clip(i).audio_frames < store_->clip(shortest).audio_frames) shortest = i;
    if (store_->clip(i).audio_frames > store_->clip(longest).audio_frames) longest = i;
  }
  auto b = batches->Make({shortest, longest});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const int64_t ta = store_->clip(longest).audio_frames, na = store_->clip(shortest).audio_frames;
  ASSERT_EQ(b->audio.size(1), ta);
  EXPECT_EQ(b->audio_len[0].item<int64_t>(), na);
  EXPECT_FALSE(b->audio_pad[0][na - 1].item<bool>());
  EXPECT_TRUE(b->audio_pad[0][na].item<bool>());
  EXPECT_EQ(b->audio.index({0, torch::indexing::Slice(na)}).abs().sum().item<float>(), 0.0f);
  EXPECT_FALSE(b->visual_pad[1].any().item<bool>());
  EXPECT_EQ(b->labels[1].item<int64_t>(), store_->clip(longest).label);

  // Values: (x - mean) / std with partition 2's Train statistics.
  NormStatsView st = *store_->norm_stats(2);
  float raw = store_->audio(longest)[3 * store_->audio_dim() + 1];
  EXPECT_FLOAT_EQ(b->audio[1][3][1].item<float>(), (raw - st.audio_mean[1]) / st.audio_std[1]);
  float vraw = HalfToFloat(store_->visual(longest)[2 * store_->visual_dim() + 5]);
  EXPECT_NEAR(b->visual[1][2][5].item<float>(), (vraw - st.visual_mean[5]) / st.visual_std[5], 1e-5);
}

TEST_F(StoreBatchesTest, TrainSplitIsStandardised) {
  auto batches = StoreBatches::Create(store_.get(), 1);
  ASSERT_TRUE(batches.ok());
  auto train = store_->ClipsInSplit(1, Split::kTrain);
  ASSERT_TRUE(train.ok());
  auto b = batches->Make(*train);
  ASSERT_TRUE(b.ok());
  auto valid = b->audio.index({b->audio_pad.logical_not()});  // [frames, dims]
  auto mean = valid.to(torch::kFloat64).mean(0);
  auto sd = valid.to(torch::kFloat64).std(0, /*unbiased=*/false);
  EXPECT_LT(mean.abs().max().item<double>(), 1e-3);
  EXPECT_LT((sd - 1).abs().max().item<double>(), 1e-3);
}

TEST_F(StoreBatchesTest, BadRequestsAreErrors) {
  EXPECT_FALSE(StoreBatches::Create(store_.get(), 9).ok());
  auto batches = StoreBatches::Create(store_.get(), 1);
  ASSERT_TRUE(batches.ok());
  EXPECT_FALSE(batches->Make({}).ok());
  auto out_of_range = batches->Make({store_->num_clips()});
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.status().message().find("outside the store"), std::string::npos);
}

}  // namespace
}  // namespace avctl
