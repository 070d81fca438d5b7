#include "worker/store_batches.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/checksum.h"
#include "common/float16.h"
#include "common/random.h"
#include "store/synth.h"
#include "worker/trainer.h"

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

TEST_F(StoreBatchesTest, HalfVideoNormalisedOnTheDeviceEqualsTheHostBatch) {
  // The GPU layout: raw float16 video, normalised by tensor ops where it
  // lands. Here the "device" is the CPU; the bits must equal the host batch's.
  auto batches = StoreBatches::Create(store_.get(), 1);
  ASSERT_TRUE(batches.ok());
  auto train = *store_->ClipsInSplit(1, Split::kTrain);
  std::vector<size_t> clips(train.begin(), train.begin() + 9);
  auto host = batches->Make(clips);
  BatchLayout half;
  half.visual_half = true;
  auto raw = batches->Make(clips, half);
  ASSERT_TRUE(host.ok() && raw.ok());
  EXPECT_EQ(raw->visual.scalar_type(), torch::kFloat16);
  EXPECT_TRUE(raw->visual_pad.any().item<bool>());  // padding is part of the comparison
  torch::Tensor v = NormalizeVisual(raw->visual, raw->visual_pad, batches->VisualMean(), batches->VisualInvStd());
  EXPECT_TRUE(torch::equal(v, host->visual));
  EXPECT_TRUE(torch::equal(raw->audio, host->audio));
  EXPECT_TRUE(torch::equal(raw->visual_pad, host->visual_pad));
}

// What a seed's first epoch trains on: the batches (clip indices, in order)
// and the bytes of the first three, hashed (the digests are those of the
// code before the prefetch pipeline). The input pipeline may change
// where and when batches are made, never which batches or what they hold.
TEST_F(StoreBatchesTest, ASeedsBatchesAndTheirContentsAreFixed) {
  auto batches = StoreBatches::Create(store_.get(), 1);
  ASSERT_TRUE(batches.ok());
  auto train = *store_->ClipsInSplit(1, Split::kTrain);
  auto epoch = EpochBatches(*store_, train, 32, true, DeriveSeed(11, "order", 1));
  Checksummer order, contents;
  for (const auto& b : epoch) {
    for (size_t i : b) {
      const uint64_t v = i;
      order.Update(&v, sizeof v);
    }
    const uint64_t end = ~0ull;
    order.Update(&end, sizeof end);
  }
  for (size_t k = 0; k < 3; ++k) {
    auto b = batches->Make(epoch[k]);
    ASSERT_TRUE(b.ok());
    for (const torch::Tensor& t : {b->audio, b->audio_pad, b->visual, b->visual_pad, b->labels, b->soft}) {
      contents.Update(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
    }
  }
  EXPECT_EQ(epoch.size(), 12u);
  EXPECT_EQ(order.Digest(), "xxh3-64:a0ab2dc578de0481");
  EXPECT_EQ(contents.Digest(), "xxh3-64:fa9038169a8e586e");
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
