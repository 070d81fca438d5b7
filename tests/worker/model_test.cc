#include <cmath>
#include <filesystem>

#include <unistd.h>

#include <gtest/gtest.h>

#include "store/synth.h"
#include "common/float16.h"
#include "store/store_writer.h"
#include "common/job_result.h"
#include "worker/av_model.h"
#include "worker/device.h"
#include "worker/ladder.h"
#include "worker/store_batches.h"
#include "worker/train_step.h"
#include "worker/trainer.h"
#include "worker/transformer.h"
#include "tests/worker/trainer_fixture.h"
#include "tests/store/test_util.h"
#include "common/file_util.h"

namespace avctl {
namespace {

double Sigm(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(LadderTest, CombinatorMatchesTheFormula) {
  Combinator g(1);
  // At initialisation (a2 = a7 = 1, the rest 0): mu = 0 and v = 0, so z_hat = 0.
  EXPECT_EQ(g->forward(torch::tensor({{3.0f}}), torch::tensor({{-2.0f}})).item<float>(), 0.0f);
  const double a[10] = {2, 1, 0, 0.5, 0.1, 1, 1, 0, 0, 0.5};
  {
    torch::NoGradGuard no_grad;
    for (int i = 1; i <= 10; ++i) g->a(i).fill_(a[i - 1]);
  }
  // u = 1, z_tilde = 1:
  //   mu = 2 sigm(1) + 0.5 + 0.1,  v = sigm(1) + 0.5,  z_hat = (1 - mu) v + mu
  const double mu = 2 * Sigm(1) + 0.5 + 0.1, v = Sigm(1) + 0.5;
  EXPECT_NEAR(g->forward(torch::tensor({{1.0f}}), torch::tensor({{1.0f}})).item<float>(), (1 - mu) * v + mu, 1e-6);
  // u = 0, z_tilde = 1: mu = 1.1, v = 1.0 -> z_hat = 1.0
  EXPECT_NEAR(g->forward(torch::tensor({{1.0f}}), torch::tensor({{0.0f}})).item<float>(), 1.0, 1e-6);
}

TEST(LadderTest, ReconstructionCostMatchesHandComputation) {
  // Widths {2, 1}: layer 0 (2 units) and layer 1 (1 unit). With fresh
  // combinators z_hat = 0 everywhere, so
  //   C(1) = mean_b ((0 - mean1) / std1 - z1)^2 / 1
  //   C(0) = mean_b ((0 - z0_1)^2 + (0 - z0_2)^2) / 2
  LadderDecoder dec(std::vector<int64_t>{2, 1});
  LadderPass clean, lateral;
  clean.z = {torch::tensor({{1.0f, 2.0f}, {3.0f, -1.0f}}), torch::tensor({{0.5f}, {-0.5f}})};
  clean.mean = {torch::Tensor(), torch::tensor({0.25f})};
  clean.std = {torch::Tensor(), torch::tensor({2.0f})};
  lateral.z = {torch::randn({2, 2}), torch::randn({2, 1})};
  auto costs = dec->forward(torch::randn({2, 1}), lateral, clean);
  ASSERT_EQ(costs.size(), 2u);
  // Layer 1: estimate = -0.125 for both clips: ((-0.125 - 0.5)^2 + (-0.125 + 0.5)^2) / 2
  EXPECT_NEAR(costs[1].item<double>(), (std::pow(-0.625, 2) + std::pow(0.375, 2)) / 2, 1e-6);
  // Layer 0: ((1 + 4) + (9 + 1)) / 2 clips / 2 units = 3.75
  EXPECT_NEAR(costs[0].item<double>(), 3.75, 1e-6);
}

TEST(LadderTest, EncoderNormalisesAndCorrupts) {
  torch::manual_seed(1);
  LadderEncoder enc(std::vector<int64_t>{4, 8, 3});
  enc->train();
  auto x = torch::randn({16, 4});
  LadderPass clean = enc->forward(x, 0.0);
  EXPECT_TRUE(torch::equal(clean.z[0], x));
  EXPECT_LT(clean.z[1].mean(0).abs().max().item<float>(), 1e-5);
  EXPECT_NEAR(clean.z[1].var(0, false).mean().item<float>(), 1.0, 1e-3);
  LadderPass noisy = enc->forward(x, 0.3);
  EXPECT_FALSE(torch::equal(noisy.z[0], x));
  EXPECT_NEAR((noisy.z[0] - x).std().item<double>(), 0.3, 0.1);
}

ModelInputs RandomInputs(int64_t B, int64_t ta, int64_t tv, int64_t da, int64_t dv) {
  ModelInputs in;
  in.audio = torch::randn({B, ta, da});
  in.visual = torch::randn({B, tv, dv});
  in.audio_pad = torch::zeros({B, ta}, torch::kBool);
  in.visual_pad = torch::zeros({B, tv}, torch::kBool);
  return in;
}

TEST(LadderTest, StatisticsAndCostsStayFloat32UnderBf16Autocast) {
  torch::manual_seed(2);
  LadderEncoder enc(std::vector<int64_t>{8, 16, 6});
  LadderDecoder dec(std::vector<int64_t>{8, 16, 6});
  enc->train();
  auto x = torch::randn({12, 8});
  Bf16Autocast autocast(torch::Device(torch::kCPU), true);
  EXPECT_EQ(torch::nn::Linear(8, 4)(x).scalar_type(), torch::kBFloat16);  // autocast is on
  LadderPass clean = enc->forward(x, 0.0), noisy = enc->forward(x, 0.3);
  for (size_t l = 1; l < clean.z.size(); ++l) {
    EXPECT_EQ(clean.mean[l].scalar_type(), torch::kFloat32) << l;
    EXPECT_EQ(clean.std[l].scalar_type(), torch::kFloat32) << l;
    EXPECT_EQ(noisy.z[l].scalar_type(), torch::kFloat32) << l;
  }
  for (const auto& c : dec->forward(noisy.logits, noisy, clean)) EXPECT_EQ(c.scalar_type(), torch::kFloat32);
}

TEST(TransformerTest, LastFramePoolingEqualsAGatherAndItsGradient) {
  torch::manual_seed(4);
  auto x = torch::randn({7, 3, 5}, torch::requires_grad());
  auto pad = torch::zeros({3, 7}, torch::kBool);
  using torch::indexing::Slice;
  pad.index_put_({0, Slice(4)}, true);  // lengths 4, 7, 1
  pad.index_put_({2, Slice(1)}, true);
  auto pooled = PoolLast(x, pad);
  auto expected = torch::stack({x[3][0], x[6][1], x[0][2]}, 0);
  EXPECT_TRUE(torch::equal(pooled, expected));
  auto g = torch::randn({3, 5});
  auto ours = torch::autograd::grad({pooled}, {x}, {g})[0];
  auto theirs = torch::autograd::grad({expected}, {x}, {g})[0];
  EXPECT_TRUE(torch::equal(ours, theirs));
}

TEST(TransformerTest, PositionRowsDoNotDependOnTheTableLength) {
  auto short_table = SinusoidalPositions(10, 130);
  auto long_table = SinusoidalPositions(700, 130);
  EXPECT_TRUE(torch::equal(short_table, long_table.narrow(0, 0, 10)));
  // Row 0 is position 1: sin(1 * freq) then cos(1 * freq); the first frequency is 1.
  EXPECT_FLOAT_EQ(short_table[0][0].item<float>(), static_cast<float>(std::sin(1.0)));
  EXPECT_FLOAT_EQ(short_table[0][65].item<float>(), static_cast<float>(std::cos(1.0)));
}

TEST(AvModelTest, ShapesOfEveryVariant) {
  for (const auto& variant : VariantNames()) {
    torch::manual_seed(0);
    AvModel model(SmallModel(variant), 16, 32);
    model->train();
    ModelOutputs out = model->forward(RandomInputs(4, 20, 10, 16, 32));
    ASSERT_FALSE(out.train_logits.empty()) << variant;
    for (const auto& t : out.train_logits) EXPECT_EQ(t.sizes(), (std::vector<int64_t>{4, 6})) << variant;
    EXPECT_EQ(out.eval_logits.size(), out.train_logits.size());
    EXPECT_EQ(out.unsupervised.dim(), 0);
    const bool has_uns = variant.rfind("ladder", 0) == 0;
    EXPECT_EQ(out.unsupervised.item<float>() > 0, has_uns) << variant;
  }
}

TEST(AvModelTest, PaddingNeverLeaks) {
  for (const std::string variant : {"backbone", "ladder_av", "mult"}) {
    torch::manual_seed(0);
    AvModel model(SmallModel(variant), 16, 32);
    model->eval();
    torch::NoGradGuard no_grad;
    // Clip 0 is short: frames beyond 7 (audio) and 4 (video) are padding.
    ModelInputs in = RandomInputs(2, 12, 6, 16, 32);
    using torch::indexing::Slice;
    in.audio_pad.index_put_({0, Slice(7)}, true);
    in.visual_pad.index_put_({0, Slice(4)}, true);
    auto before = model->forward(in).eval_logits;
    ModelInputs garbage = in;
    garbage.audio = in.audio.clone();
    garbage.visual = in.visual.clone();
    garbage.audio.index_put_({0, Slice(7)}, 1e3);
    garbage.visual.index_put_({0, Slice(4)}, -1e3);
    auto after = model->forward(garbage).eval_logits;
    // Alone, without padding.
    ModelInputs alone;
    alone.audio = in.audio.index({Slice(0, 1), Slice(0, 7)});
    alone.visual = in.visual.index({Slice(0, 1), Slice(0, 4)});
    alone.audio_pad = torch::zeros({1, 7}, torch::kBool);
    alone.visual_pad = torch::zeros({1, 4}, torch::kBool);
    auto single = model->forward(alone).eval_logits;
    for (size_t h = 0; h < before.size(); ++h) {
      EXPECT_TRUE(torch::allclose(before[h][0], after[h][0], 1e-5, 1e-5)) << variant << " head " << h;
      EXPECT_TRUE(torch::allclose(before[h][0], single[h][0], 1e-4, 1e-5)) << variant << " head " << h;
    }
  }
}

// Parameters whose name starts with `prefix` that received a non-zero gradient.
bool AnyGradient(AvModel& model, const std::string& prefix) {
  for (const auto& p : model->named_parameters()) {
    if (p.key().rfind(prefix, 0) != 0) continue;
    if (p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0) return true;
  }
  return false;
}

TEST(AvModelTest, GradientsReachExactlyWhatEachLossTermShould) {
  // Cross-modal ladders off: the unsupervised cost never reaches the visual
  // (or audio) ladder encoders, only the AV ladder and the backbone below it.
  {
    torch::manual_seed(0);
    AvModel model(SmallModel("ladder_no_cross"), 16, 32);
    model->train();
    model->forward(RandomInputs(6, 10, 5, 16, 32)).unsupervised.backward();
    EXPECT_FALSE(AnyGradient(model, "ladder_v."));
    EXPECT_FALSE(AnyGradient(model, "ladder_a."));
    EXPECT_TRUE(AnyGradient(model, "decoder_av."));
    EXPECT_TRUE(AnyGradient(model, "ladder_av."));
  }
  // Cross-modal ladders on: A->V takes laterals from the audio encoder and
  // targets from the visual one, so both modality ladders get gradients.
  {
    torch::manual_seed(0);
    AvModel model(SmallModel("ladder_av"), 16, 32);
    model->train();
    model->forward(RandomInputs(6, 10, 5, 16, 32)).unsupervised.backward();
    EXPECT_TRUE(AnyGradient(model, "ladder_v."));
    EXPECT_TRUE(AnyGradient(model, "ladder_a."));
    EXPECT_TRUE(AnyGradient(model, "decoder_a2v."));
  }
  // Audio dropped by modality dropout: its cross reconstructions are skipped.
  {
    torch::manual_seed(0);
    AvModel model(SmallModel("ladder_av"), 16, 32);
    model->train();
    ModelInputs in = RandomInputs(6, 10, 5, 16, 32);
    in.audio = torch::zeros_like(in.audio);
    in.audio_dropped = true;
    ModelOutputs out = model->forward(in);
    EXPECT_EQ(out.costs.count("rA->V"), 0u);
    out.unsupervised.backward();
    EXPECT_FALSE(AnyGradient(model, "decoder_a2v."));
  }
  // lambda = 0: the decoders get no gradient at all from the total loss.
  {
    torch::manual_seed(0);
    ModelConfig m = SmallModel("ladder_av");
    m.lambda = 0.0;
    AvModel model(m, 16, 32);
    model->train();
    ModelOutputs out = model->forward(RandomInputs(6, 10, 5, 16, 32));
    torch::Tensor loss = out.unsupervised;
    for (const auto& l : out.train_logits) loss = loss + l.logsumexp(1).mean();
    loss.backward();
    EXPECT_FALSE(AnyGradient(model, "decoder_"));
    EXPECT_TRUE(AnyGradient(model, "ladder_av."));
  }
}

// ps2020 (issue 28): one audio-visual transformer trained on its fused
// prediction, so ablating video frames changes what the audio stream
// learns; in the former wiring (a head and a loss per modality, fused only
// at evaluation) the audio side's gradients cannot depend on the video.
// The loss is the trainer's: the sum of the heads' cross-entropies.
std::map<std::string, torch::Tensor> AudioGradients(const ModelConfig& m, bool ablate_frames) {
  torch::manual_seed(5);
  AvModel model(m, 16, 32);
  model->eval();  // no dropout: the two passes differ in their input only
  torch::manual_seed(6);
  ModelInputs in = RandomInputs(6, 10, 5, 16, 32);
  if (ablate_frames) {
    // Frame-level ablation as the trainer applies it (visual * keep).
    auto keep = torch::ones({6, 5, 1});
    keep.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, 4)}, 0);
    in.visual = in.visual * keep;
  }
  ModelOutputs out = model->forward(in);
  const auto labels = torch::tensor({0, 1, 2, 3, 4, 5}, torch::kLong);
  torch::Tensor loss = torch::zeros({});
  for (const auto& l : out.train_logits) loss = loss + training::CrossEntropy(l, labels, {}, false, {});
  loss.backward();
  std::map<std::string, torch::Tensor> grads;
  for (const auto& p : model->named_parameters()) {
    const std::string& k = p.key();
    const bool audio_side = k.rfind("cross_av.", 0) == 0 || k.rfind("self_a.", 0) == 0 || k.rfind("aux_a.", 0) == 0 ||
                            k.rfind("proj_a.", 0) == 0;
    if (audio_side && p.value().grad().defined()) grads[k] = p.value().grad().clone();
  }
  return grads;
}

double LargestChange(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  double most = 0;
  for (const auto& [k, g] : a) most = std::max(most, (g - b.at(k)).abs().max().item<double>());
  return most;
}

TEST(AvModelTest, Ps2020sVisualAblationChangesTheAudioStreamsGradientsTheFormerWiringsCannot) {
  const ModelConfig fused = SmallModel("ps2020");
  ASSERT_TRUE(fused.fusion);
  ASSERT_FALSE(fused.auxiliary);
  const auto intact = AudioGradients(fused, false), ablated = AudioGradients(fused, true);
  ASSERT_FALSE(intact.empty());
  EXPECT_GT(LargestChange(intact, ablated), 1e-4) << "ablated frames reach the audio stream through cross-attention";
  // The former wiring, kept as overrides: the audio head's loss never sees the video.
  ModelConfig former = fused;
  former.fusion = false;
  former.auxiliary = true;
  former.aux_repeats = 1;
  former.share_aux_head = false;
  former.visual_ablation = VisualAblation::kClip;
  const auto former_intact = AudioGradients(former, false), former_ablated = AudioGradients(former, true);
  ASSERT_FALSE(former_intact.empty());
  EXPECT_EQ(LargestChange(former_intact, former_ablated), 0.0) << "no gradient of the audio side depends on the video";
}

// The layer-0 target is the learned pooled representation. Trained on L_uns
// alone, the raw cost can be lowered by shrinking that representation
// against the fixed-size noise; scored after the clean batch normalisation
// (the default) it cannot.
double RepresentationScaleAfterUnsupervisedTraining(Layer0Target layer0_target, int steps) {
  torch::manual_seed(3);
  ModelConfig m = SmallModel("ladder_av");
  m.layer0_target = layer0_target;
  m.audio_dropout_p = m.visual_dropout_p = 0;
  AvModel model(m, 16, 32);
  model->train();
  ModelInputs in = RandomInputs(16, 10, 5, 16, 32);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-2));
  auto rms = [](const torch::Tensor& r) { return r.detach().pow(2).mean().sqrt().item<double>(); };
  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    ModelOutputs out = model->forward(in);
    last = rms(out.representations.at("av"));
    if (step == 0) first = last;
    opt.zero_grad();
    out.unsupervised.backward();
    opt.step();
  }
  return last / first;
}

TEST(AvModelTest, NormalisedLayer0CostKeepsTheRepresentationFromCollapsing) {
  const double raw = RepresentationScaleAfterUnsupervisedTraining(Layer0Target::kRaw, 150);
  const double normalized = RepresentationScaleAfterUnsupervisedTraining(Layer0Target::kNormalized, 150);
  std::cerr << "representation RMS after 150 L_uns-only steps, relative to the start: raw " << raw
            << ", normalized " << normalized << "\n";
  EXPECT_GT(normalized, 0.9);  // does not shrink (measured: 1.20)
  EXPECT_LT(raw, 0.85);        // the unguarded cost shrinks it (measured: 0.75)
}

TEST(AvModelTest, LadderTopIsThePosteriorOrTheLogits) {
  // With the combinators moved off their initial values the top-down input
  // reaches the cost; the two wirings then give different costs.
  auto cost = [](LadderTop top) {
    torch::manual_seed(5);
    ModelConfig m = SmallModel("ladder_no_cross");
    m.ladder_top = top;
    AvModel model(m, 16, 32);
    {
      torch::NoGradGuard no_grad;
      for (auto& p : model->named_parameters()) {
        if (p.key().find("decoder_av.g") == 0) p.value().add_(0.5);
      }
    }
    model->train();
    torch::manual_seed(6);
    return model->forward(RandomInputs(8, 10, 5, 16, 32)).costs.at("rAV").item<double>();
  };
  EXPECT_NE(cost(LadderTop::kPosterior), cost(LadderTop::kLogits));
}

TEST_F(TrainerTest, EveryVariantTrainsAFewSteps) {
  Logger log(stderr, LogLevel::kError);
  for (const auto& variant : VariantNames()) {
    JobConfig j = Job(variant, 1);
    j.train.max_train_batches = 2;
    auto r = SetUpAndTrain(j, *store_, &log);
    ASSERT_TRUE(r.ok()) << variant << ": " << r.status().ToString();
    EXPECT_EQ(r->epochs.size(), 1u);
    EXPECT_EQ(r->test.clips.size(), store_->ClipsInSplit(1, Split::kTest)->size());
    Json j_out = JobResultToJson(ToJobResult(*r, *store_));
    EXPECT_EQ(j_out["config"]["variant"], variant);
    EXPECT_EQ(j_out["test"]["predictions"].size(), r->test.clips.size());
    // What the coordinator checks before storing (avworker train adds compute_seconds).
    j_out["compute_seconds"] = 1.0;
    auto parsed = ParseJobResult(j_out);
    Status schema = parsed.ok() ? CheckResultFor(*parsed, JobKind::kTrain) : parsed.status();
    EXPECT_TRUE(schema.ok()) << variant << ": " << schema.ToString();
  }
}

// A four-class store (the usual IEMOCAP setting) synthesized on a generic
// labels CSV, or an audio-only one on an MSP-Podcast-style
// labels_consensus.csv (tests/store/test_util.h): 20 speakers each.
Status WriteStore(const std::string& dir, bool audio_only) {
  AVCTL_RETURN_IF_ERROR(WriteFileAtomic(
      dir + ".csv", audio_only ? testutil::MspPodcastLabelsCsv(20, 12) : testutil::FourClassLabelsCsv(20, 12)));
  SynthOptions o = audio_only ? testutil::MspAudioOnlySynth(dir + ".csv", dir) : testutil::FourClassSynth(dir + ".csv", dir);
  o.threads = 1;
  o.overwrite = true;
  Logger log(stderr, LogLevel::kError);
  return SynthesizeStore(o, &log).status();
}

TEST_F(TrainerTest, EveryAudiovisualVariantTrainsOnAFourClassStore) {
  Logger log(stderr, LogLevel::kError);
  const std::string dir = *dir_ + "-four";
  ASSERT_TRUE(WriteStore(dir, /*audio_only=*/false).ok());
  auto four = FeatureStore::Open(dir);
  ASSERT_TRUE(four.ok()) << four.status().ToString();
  ASSERT_EQ((*four)->num_classes(), 4);
  for (const auto& variant : VariantNames()) {
    JobConfig j = Job(variant, 1);
    j.train.max_train_batches = 2;
    auto r = SetUpAndTrain(j, **four, &log);
    ASSERT_TRUE(r.ok()) << variant << ": " << r.status().ToString();
    EXPECT_TRUE(std::isfinite(r->epochs[0].train_loss)) << variant;
    EXPECT_EQ(r->test.confusion.size(), 16u) << variant << ": a 4 x 4 confusion matrix";
    ASSERT_FALSE(r->test.probabilities.empty());
    EXPECT_EQ(r->test.probabilities[0].size(), 4u) << variant;
    const JobResult result = ToJobResult(*r, **four);
    EXPECT_EQ(result.class_names, (std::vector<std::string>{"anger", "happiness", "sadness", "neutral"})) << variant;
    EXPECT_EQ(result.test.metrics.count("macro_f1"), 1u) << variant;
  }
  // Balanced class weights train too, and change the loss.
  JobConfig plain = Job("backbone", 1), balanced = plain;
  plain.train.max_train_batches = balanced.train.max_train_batches = 2;
  balanced.train.class_weights = ClassWeights::kBalanced;
  auto a = SetUpAndTrain(plain, **four, &log), b = SetUpAndTrain(balanced, **four, &log);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->epochs[0].train_loss, b->epochs[0].train_loss);
  EXPECT_TRUE(std::isfinite(b->epochs[0].dev_loss));
  std::filesystem::remove_all(dir);
}

TEST_F(TrainerTest, AudioOnlyVariantsTrainOnAnAudioOnlyStoreAndAudiovisualOnesRefuseIt) {
  Logger log(stderr, LogLevel::kError);
  const std::string dir = *dir_ + "-msp";
  ASSERT_TRUE(WriteStore(dir, /*audio_only=*/true).ok());
  auto msp = FeatureStore::Open(dir);
  ASSERT_TRUE(msp.ok()) << msp.status().ToString();
  ASSERT_FALSE((*msp)->has_visual());
  for (const char* variant : {"backbone_audio", "ladder_audio"}) {
    JobConfig j = Job(variant, 1);
    j.train.max_train_batches = 2;
    auto r = SetUpAndTrain(j, **msp, &log);
    ASSERT_TRUE(r.ok()) << variant << ": " << r.status().ToString();
    EXPECT_TRUE(std::isfinite(r->epochs[0].train_loss)) << variant;
    EXPECT_EQ(r->test.confusion.size(), 16u) << variant;
    const JobResult result = ToJobResult(*r, **msp);
    EXPECT_EQ(result.class_names, (std::vector<std::string>{"anger", "sadness", "happiness", "neutral"}));
    if (std::string(variant) == "ladder_audio") {
      EXPECT_GT(r->epochs[0].train_uns, 0.0) << "the audio ladder's reconstruction cost";
      EXPECT_EQ(r->epochs[0].costs.count("rA"), 1u);
    }
  }
  for (const auto& variant : VariantNames()) {
    JobConfig j = Job(variant, 1);
    if (j.model.modalities == Modalities::kAudio) continue;
    auto r = SetUpAndTrain(j, **msp, &log);
    ASSERT_FALSE(r.ok()) << variant << " trained without video";
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << variant;
    EXPECT_NE(r.status().message().find("needs the visual modality"), std::string::npos) << r.status().ToString();
    EXPECT_EQ(r.status().field(), "model.modalities");
  }
  // The audio-only variants also run on an audiovisual store (the video unused).
  JobConfig j = Job("ladder_audio", 1);
  j.train.max_train_batches = 2;
  EXPECT_TRUE(SetUpAndTrain(j, *store_, &log).ok());
  std::filesystem::remove_all(dir);
}

TEST_F(TrainerTest, SameSeedSameBits) {
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Job("ladder_av", 2);
  j.train.max_train_batches = 3;
  auto a = SetUpAndTrain(j, *store_, &log);
  auto b = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t e = 0; e < a->epochs.size(); ++e) {
    EXPECT_EQ(a->epochs[e].train_loss, b->epochs[e].train_loss);
    EXPECT_EQ(a->epochs[e].dev_loss, b->epochs[e].dev_loss);
  }
  EXPECT_EQ(a->test.predictions, b->test.predictions);
  EXPECT_EQ(a->test.metrics.macro_f1, b->test.metrics.macro_f1);
  j.seed = 12;
  auto c = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->epochs[0].train_loss, c->epochs[0].train_loss);
}

TEST_F(TrainerTest, AJobIsRefusedUnderTorchSettingsItDidNotAskFor) {
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Job("backbone", 1);
  j.train.max_train_batches = 1;
  auto process = SetUpTorchProcess(j);
  ASSERT_TRUE(process.ok()) << process.status().ToString();
  EXPECT_TRUE(TrainJob(j, *process, *store_, &log).ok());

  JobConfig two = j;
  two.threads = 2;
  auto r = TrainJob(two, *process, *store_, &log);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("2 threads (the process: 1)"), std::string::npos) << r.status().ToString();

  JobConfig other_device = j;
  other_device.device = "cuda:0";
  r = TrainJob(other_device, *process, *store_, &log);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("device cuda:0 (the process: cpu)"), std::string::npos)
      << r.status().ToString();

  // Something changed torch's threads after the setup: the job would run on other kernels' sums.
  torch::set_num_threads(2);
  r = TrainJob(j, *process, *store_, &log);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("changed to 2 after the setup"), std::string::npos) << r.status().ToString();
}

TEST_F(TrainerTest, PrefetchChangesNothingButWhereBatchesAreMade) {
  Logger log(stderr, LogLevel::kError);
  // Modality dropout, visual ablation and partial labels all draw from the
  // job's streams while batches are made: the prefetch thread must draw the
  // same numbers in the same order.
  for (const std::string variant : {"ladder_av", "ps2020"}) {
    JobConfig j = Job(variant, 2);
    j.train.max_train_batches = 3;
    j.train.labeled_fraction = 0.5;
    j.model.visual_ablation = VisualAblation::kFrame;
    j.train.prefetch = 0;
    auto serial = SetUpAndTrain(j, *store_, &log);
    j.train.prefetch = 3;
    auto prefetched = SetUpAndTrain(j, *store_, &log);
    ASSERT_TRUE(serial.ok() && prefetched.ok()) << variant;
    ExpectSameBits(*serial, *prefetched, variant);
    EXPECT_TRUE(prefetched->deterministic);
    EXPECT_LT(prefetched->peak_device_memory_mib, 0);  // not measured on CPU
    EXPECT_GE(prefetched->data_wait_share, 0);
    EXPECT_LE(prefetched->data_wait_share, 1);
  }
}

TEST_F(TrainerTest, Bf16AutocastTrainsWithFloat32LadderStatistics) {
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Job("ladder_av", 1);
  j.train.max_train_batches = 2;
  j.bf16 = true;  // CPU autocast here; CUDA autocast on GPU nodes
  auto r = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(std::isfinite(r->epochs[0].train_loss));
  EXPECT_GT(r->epochs[0].costs.at("rAV"), 0);
  JobConfig f32 = j;
  f32.bf16 = false;
  auto plain = SetUpAndTrain(f32, *store_, &log);
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(r->epochs[0].train_loss, plain->epochs[0].train_loss);  // autocast did act
}

// The CUDA path (scripts/gpu-check.sh runs this suite on a GPU node; CI has
// no GPU and skips it): pinned float16 batches converted on the device,
// deterministic reruns bit-identical, results close to the CPU's, the peak
// memory measured, and bf16 autocast training.
TEST_F(TrainerTest, CudaRunsAreDeterministicAndCloseToTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible to this libtorch";
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Job("ladder_av", 2);
  j.train.max_train_batches = 3;
  j.model.audio_dropout_p = 0;  // CPU and CUDA dropout masks differ; compare without dropout
  j.model.visual_dropout_p = 0;
  j.model.attn_dropout = j.model.relu_dropout = j.model.res_dropout = j.model.embed_dropout = 0;
  j.model.out_dropout = 0;
  j.model.noise_std = 0;
  auto cpu = SetUpAndTrain(j, *store_, &log);
  j.device = "cuda:0";
  j.train.deterministic = true;
  auto a = SetUpAndTrain(j, *store_, &log);
  auto b = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(cpu.ok() && a.ok() && b.ok()) << a.status().ToString();
  EXPECT_TRUE(a->deterministic);
  ExpectSameBits(*a, *b, "cuda rerun");
  EXPECT_GT(a->peak_device_memory_mib, 0);
  EXPECT_NEAR(a->epochs[0].train_loss, cpu->epochs[0].train_loss, 1e-3 * std::abs(cpu->epochs[0].train_loss));
  JobConfig bf = j;
  bf.bf16 = true;
  auto c = SetUpAndTrain(bf, *store_, &log);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(std::isfinite(c->epochs.back().train_loss));
}

TEST_F(TrainerTest, LearnsOnTheTinyStore) {
  Logger log(stderr, LogLevel::kError);
  // The default pooling (AuxFormer's last frame) needs deeper encoders to
  // carry the clip's information to its end; the one-layer test model pools
  // the masked mean instead.
  JobConfig j = Job("ladder_av", 8);
  j.train.lr = 2e-3;
  j.model.pooling = Pooling::kMean;
  auto r = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::cerr << "tiny store, ladder_av: test macro F1 " << r->test.metrics.macro_f1 << ", accuracy "
            << r->test.metrics.accuracy << ", selected epoch " << r->selected_epoch << "\n";
  EXPECT_GE(r->test.metrics.macro_f1, 2.0 / 6.0);  // at least twice chance
}

TEST_F(TrainerTest, LabeledFractionIsSpeakerBalanced) {
  auto train = *store_->ClipsInSplit(1, Split::kTrain);
  auto labeled = ChooseLabeled(*store_, train, 0.5, 3);
  std::map<std::string, std::pair<int, int>> per_actor;  // actor -> (labeled, all)
  for (size_t i = 0; i < train.size(); ++i) {
    auto& [l, n] = per_actor[store_->clip(train[i]).group];
    l += labeled[i];
    n++;
  }
  for (const auto& [actor, c] : per_actor) EXPECT_EQ(c.first, (c.second + 1) / 2) << actor;
  EXPECT_EQ(ChooseLabeled(*store_, train, 0.5, 3), labeled);
  EXPECT_NE(ChooseLabeled(*store_, train, 0.5, 4), labeled);
}

TEST_F(TrainerTest, CheckpointHoldsTheSelectedModel) {
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Job("backbone", 1);
  j.train.max_train_batches = 2;
  j.checkpoint = *dir_ + ".ckpt.pt";
  auto r = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(std::filesystem::exists(j.checkpoint));
  AvModel loaded(j.model, store_->audio_dim(), store_->visual_dim());
  torch::load(loaded, j.checkpoint);
  loaded->eval();
  auto batches = StoreBatches::Create(store_, 1);
  ASSERT_TRUE(batches.ok());
  std::vector<size_t> first(r->test.clips.begin(), r->test.clips.begin() + 4);
  auto b = batches->Make(first);
  ASSERT_TRUE(b.ok());
  torch::NoGradGuard no_grad;
  ModelOutputs out = loaded->forward({b->audio, b->audio_pad, b->visual, b->visual_pad});
  auto probs = torch::softmax(torch::stack(out.eval_logits, 0).mean(0), 1);
  for (int k = 0; k < 6; ++k) EXPECT_NEAR(probs[0][k].item<float>(), r->test.probabilities[0][k], 1e-5);
  std::filesystem::remove(j.checkpoint);
}

TEST_F(TrainerTest, EarlyStoppingEndsTheRun) {
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Job("backbone", 30);
  j.train.max_train_batches = 1;
  j.train.lr = 1e-7;  // nothing improves: the run stops after patience + 1 epochs without a better dev loss
  j.train.early_stop_patience = 1;
  j.train.select_by = SelectBy::kDevMacroF1;
  auto r = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->epochs.size(), 30u);
  EXPECT_LE(static_cast<int>(r->epochs.size()), r->selected_epoch + 2);
}

TEST_F(TrainerTest, DivergingLossFailsTheJobWithItsReason) {
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Job("backbone", 2);
  j.train.lr = 1e30;  // the first Adam step sends the weights to ~1e30: the next loss is not finite
  j.train.max_train_batches = 4;
  auto r = SetUpAndTrain(j, *store_, &log);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("loss is"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("epoch 1 batch"), std::string::npos) << r.status().ToString();
}

TEST_F(TrainerTest, SoftTargetsTrain) {
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Job("ladder_av", 1);
  j.model.targets = Targets::kSoft;
  j.train.max_train_batches = 2;
  auto r = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(std::isfinite(r->epochs[0].train_sup));
  EXPECT_GT(r->epochs[0].train_sup, 0.0);
}

TEST_F(TrainerTest, SemiSupervisedJobTrains) {
  Logger log(stderr, LogLevel::kError);
  JobConfig j = Job("ladder_av", 1);
  j.train.labeled_fraction = 0.2;
  j.train.max_train_batches = 2;
  auto r = SetUpAndTrain(j, *store_, &log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->labeled_train_clips, r->train_clips / 4);
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

// Class weights (issue 28) against libtorch's own cross_entropy with
// `weight`, an independent implementation of PyTorch's semantics.
TEST(CrossEntropyTest, ClassWeightsEqualTorchsWeightedCrossEntropy) {
  torch::manual_seed(2);
  const auto logits = torch::randn({7, 4});
  const auto labels = torch::tensor({0, 1, 1, 2, 3, 3, 3}, torch::kLong);
  const std::vector<float> w = training::BalancedClassWeights({0, 1, 1, 2, 3, 3, 3}, 4);
  EXPECT_FLOAT_EQ(w[0], 7.0f / 4.0f);
  EXPECT_FLOAT_EQ(w[3], 7.0f / 12.0f);
  const auto cw = torch::tensor(w);
  const double ours = training::CrossEntropy(logits, labels, {}, false, {}, cw).item<double>();
  const double torch_ce =
      torch::nn::functional::cross_entropy(logits, labels, torch::nn::functional::CrossEntropyFuncOptions().weight(cw))
          .item<double>();
  EXPECT_NEAR(ours, torch_ce, 1e-6);
  // Soft targets: the weights inside the sum, the mean over clips (torch's
  // probabilities-target semantics).
  const auto soft = torch::softmax(torch::randn({7, 4}), 1);
  const double ours_soft = training::CrossEntropy(logits, labels, soft, true, {}, cw).item<double>();
  const double manual = (-(soft * cw.unsqueeze(0) * torch::log_softmax(logits, 1)).sum(1)).mean().item<double>();
  EXPECT_NEAR(ours_soft, manual, 1e-6);
  // No weights: the plain mean.
  EXPECT_NEAR(training::CrossEntropy(logits, labels, {}, false, {}).item<double>(),
              torch::nn::functional::cross_entropy(logits, labels).item<double>(), 1e-6);
  // An unlabeled clip (weight 0) counts in neither sum.
  const auto mask = torch::tensor({1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 0.f});
  const double masked = training::CrossEntropy(logits, labels, {}, false, mask, cw).item<double>();
  const double torch_masked = torch::nn::functional::cross_entropy(
      logits.slice(0, 0, 6), labels.slice(0, 0, 6), torch::nn::functional::CrossEntropyFuncOptions().weight(cw)).item<double>();
  EXPECT_NEAR(masked, torch_masked, 1e-6);
  EXPECT_EQ(training::BalancedClassWeights({0, 0, 2}, 3)[1], 0.0f) << "a class with no Train label";
}

}  // namespace
}  // namespace avctl
