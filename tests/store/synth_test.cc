#include "store/synth.h"

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/float16.h"
#include "features/deltas.h"
#include "store/feature_store.h"
#include "store/store_info.h"
#include "tests/store/test_util.h"

namespace avctl {
namespace {

std::vector<std::string> AllLabels() {
  std::vector<std::string> f;
  for (int p = 1; p <= 5; ++p) f.push_back(testutil::ShippedLabels(p));
  return f;
}

SynthOptions Tiny(const std::string& out, uint64_t seed, int threads) {
  SynthOptions o;
  o.label_files = AllLabels();
  o.out_dir = out;
  o.seed = seed;
  o.profile = SynthProfile::kTiny;
  o.threads = threads;
  return o;
}

std::map<std::string, std::string> FileSums(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const char* f : {kManifestFile, kAudioFile, kVisualFile, kNormStatsFile}) out[f] = *ChecksumFile(dir + "/" + f);
  return out;
}

TEST(SynthTest, SameSeedByteIdenticalWhateverTheThreads) {
  Logger log(stderr, LogLevel::kWarn);
  std::string root = testutil::FreshDir("");
  ASSERT_TRUE(SynthesizeStore(Tiny(root + "/a", 7, 1), &log).ok());
  ASSERT_TRUE(SynthesizeStore(Tiny(root + "/b", 7, 3), &log).ok());
  ASSERT_TRUE(SynthesizeStore(Tiny(root + "/c", 8, 2), &log).ok());
  auto a = FileSums(root + "/a"), b = FileSums(root + "/b"), c = FileSums(root + "/c");
  EXPECT_EQ(a, b);
  EXPECT_NE(a[kAudioFile], c[kAudioFile]);
  EXPECT_NE(a[kVisualFile], c[kVisualFile]);
}

TEST(SynthTest, ClipSelectionIsBalancedAndKeepsEveryActor) {
  auto corpus = LoadCorpus(AllLabels());
  ASSERT_TRUE(corpus.ok());
  auto sel = SelectClips(*corpus, 6);
  std::map<std::string, std::set<int>> classes_per_actor;
  std::map<std::string, int> count;
  for (size_t i : sel) {
    count[corpus->clips[i].group]++;
    classes_per_actor[corpus->clips[i].group].insert(corpus->clips[i].label);
  }
  EXPECT_EQ(count.size(), 91u);
  for (auto& [actor, n] : count) {
    EXPECT_LE(n, 6);
    // Round robin over the classes the actor has: at least min(6, #classes) distinct.
    EXPECT_GE(classes_per_actor[actor].size(), std::min<size_t>(3, classes_per_actor[actor].size()));
  }
  EXPECT_TRUE(std::is_sorted(sel.begin(), sel.end()));
  EXPECT_EQ(SelectClips(*corpus, 0).size(), corpus->clips.size());
  EXPECT_EQ(SelectClips(*corpus, 6), sel) << "deterministic";
}

TEST(SynthTest, FrameCountsFollowTheRates) {
  EXPECT_EQ(AudioFramesForDuration(0.032), 1);
  EXPECT_EQ(AudioFramesForDuration(0.048), 2);
  EXPECT_EQ(AudioFramesForDuration(2.5), 155);  // 1 + floor(2.468 / 0.016)
  EXPECT_EQ(VisualFramesForDuration(2.5), 75);
  EXPECT_EQ(VisualFramesForDuration(1.27), 38);
}

class SynthStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Logger log(stderr, LogLevel::kWarn);
    // ctest runs every test in its own process, possibly in parallel: one store per process.
    dir_ = new std::string(std::filesystem::path(::testing::TempDir()) / "avctl-tests" /
                           ("synth-small-" + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    SynthOptions o;
    o.label_files = AllLabels();
    o.out_dir = *dir_;
    o.seed = 3;
    o.profile = SynthProfile::kSmall;
    o.visual_dim = 64;  // keeps the test fast; the signal lives in 16 latent dims
    auto s = SynthesizeStore(o, &log);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string* dir_;
};
std::string* SynthStoreTest::dir_ = nullptr;

TEST_F(SynthStoreTest, ShapesLookLikeCremaD) {
  auto store = FeatureStore::Open(*dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const Manifest& m = (*store)->manifest();
  EXPECT_TRUE(m.synthetic);
  EXPECT_EQ(m.provenance["kind"], "synthetic");
  EXPECT_EQ(m.audio.dim, 130);
  EXPECT_EQ(m.visual.dim, 64);
  EXPECT_EQ(m.partitions.size(), 5u);
  StoreSummary s = SummarizeManifest(m);
  EXPECT_EQ(s.actors, 91);
  EXPECT_EQ(s.clips, 91 * 16);
  EXPECT_GE(s.min_seconds, 1.26);
  EXPECT_LE(s.max_seconds, 5.01);
  EXPECT_GT(s.mean_seconds, 2.0);
  EXPECT_LT(s.mean_seconds, 3.2);
  for (const auto& c : m.clips) {
    double seconds = (c.audio_frames - 1) / 62.5 + 0.032;
    EXPECT_NEAR(c.visual_frames, seconds * 30.0, 1.5) << c.id;
  }
}

TEST_F(SynthStoreTest, AudioHasOpenSmileDeltasAndVideoIsNonNegative) {
  auto store = FeatureStore::Open(*dir_);
  ASSERT_TRUE(store.ok());
  const FeatureStore& s = **store;
  const ClipRecord& c = s.clip(5);
  const size_t L = 65;
  std::vector<float> deltas(c.audio_frames * 2 * L);
  ComputeDeltas(s.audio(5), c.audio_frames, L, 2 * L, deltas.data(), 2 * L, 2);
  for (int64_t t = 0; t < c.audio_frames; ++t)
    for (size_t d = 0; d < L; ++d) ASSERT_EQ(s.audio(5)[t * 2 * L + L + d], deltas[t * 2 * L + d]);
  int64_t zeros = 0, total = 0;
  for (size_t i = 0; i < s.num_clips(); i += 50) {
    for (int64_t k = 0; k < s.clip(i).visual_frames * s.visual_dim(); ++k) {
      float v = HalfToFloat(s.visual(i)[k]);
      ASSERT_GE(v, 0.0f);
      zeros += v == 0.0f;
      total++;
    }
  }
  EXPECT_GT(zeros, total / 20) << "post-ReLU features have exact zeros";
  EXPECT_LT(zeros, total * 3 / 4);
}

// Clip-level descriptors: the z-normalised mean over frames of each modality.
struct Pooled {
  std::vector<std::vector<double>> audio, visual;
  std::vector<int> label;
  std::vector<std::string> actor;
  std::vector<Split> split;
};

Pooled Pool(const FeatureStore& s, int partition) {
  Pooled p;
  NormStatsView st = *s.norm_stats(partition);
  int pi = s.manifest().PartitionIndex(partition);
  for (size_t i = 0; i < s.num_clips(); ++i) {
    const ClipRecord& c = s.clip(i);
    std::vector<double> a(s.audio_dim(), 0.0), v(s.visual_dim(), 0.0);
    for (int64_t t = 0; t < c.audio_frames; ++t)
      for (int64_t d = 0; d < s.audio_dim(); ++d)
        a[d] += (s.audio(i)[t * s.audio_dim() + d] - st.audio_mean[d]) / st.audio_std[d] / c.audio_frames;
    for (int64_t t = 0; t < c.visual_frames; ++t)
      for (int64_t d = 0; d < s.visual_dim(); ++d)
        v[d] += (HalfToFloat(s.visual(i)[t * s.visual_dim() + d]) - st.visual_mean[d]) / st.visual_std[d] /
                c.visual_frames;
    p.audio.push_back(a);
    p.visual.push_back(v);
    p.label.push_back(c.label);
    p.actor.push_back(c.group);
    p.split.push_back(c.splits[pi]);
  }
  return p;
}

// Nearest class mean trained on Train, confusion on Test. A deliberately
// weak classifier: it shows the signal is there, not how good a model can be.
std::array<std::array<int, kNumEmotions>, kNumEmotions> NearestMeanConfusion(
    const Pooled& p, const std::vector<std::vector<double>>& x) {
  const size_t dim = x[0].size();
  std::array<std::vector<double>, kNumEmotions> mean;
  std::array<int, kNumEmotions> n{};
  for (auto& m : mean) m.assign(dim, 0.0);
  for (size_t i = 0; i < x.size(); ++i) {
    if (p.split[i] != Split::kTrain) continue;
    for (size_t d = 0; d < dim; ++d) mean[p.label[i]][d] += x[i][d];
    n[p.label[i]]++;
  }
  for (int c = 0; c < kNumEmotions; ++c)
    for (auto& v : mean[c]) v /= std::max(1, n[c]);
  std::array<std::array<int, kNumEmotions>, kNumEmotions> conf{};
  for (size_t i = 0; i < x.size(); ++i) {
    if (p.split[i] != Split::kTest) continue;
    int best = 0;
    double best_d = 1e300;
    for (int c = 0; c < kNumEmotions; ++c) {
      double d2 = 0;
      for (size_t d = 0; d < dim; ++d) d2 += (x[i][d] - mean[c][d]) * (x[i][d] - mean[c][d]);
      if (d2 < best_d) best_d = d2, best = c;
    }
    conf[p.label[i]][best]++;
  }
  return conf;
}

double Accuracy(const std::array<std::array<int, kNumEmotions>, kNumEmotions>& conf) {
  int ok = 0, all = 0;
  for (int t = 0; t < kNumEmotions; ++t)
    for (int q = 0; q < kNumEmotions; ++q) all += conf[t][q], ok += t == q ? conf[t][q] : 0;
  return static_cast<double>(ok) / all;
}

// Share of the pair's test clips predicted as the other class of the pair.
double PairConfusion(const std::array<std::array<int, kNumEmotions>, kNumEmotions>& conf, Emotion a, Emotion b) {
  int ia = EmotionIndex(a), ib = EmotionIndex(b);
  int total = 0;
  for (int q = 0; q < kNumEmotions; ++q) total += conf[ia][q] + conf[ib][q];
  return static_cast<double>(conf[ia][ib] + conf[ib][ia]) / std::max(1, total);
}

TEST_F(SynthStoreTest, SignalIsLearnableNotTrivialAndFusionHelps) {
  auto store = FeatureStore::Open(*dir_);
  ASSERT_TRUE(store.ok());
  Pooled p = Pool(**store, 1);
  std::vector<std::vector<double>> fused;
  for (size_t i = 0; i < p.audio.size(); ++i) {
    std::vector<double> f = p.audio[i];
    f.insert(f.end(), p.visual[i].begin(), p.visual[i].end());
    fused.push_back(f);
  }
  auto ca = NearestMeanConfusion(p, p.audio);
  auto cv = NearestMeanConfusion(p, p.visual);
  auto cf = NearestMeanConfusion(p, fused);
  double acc_a = Accuracy(ca), acc_v = Accuracy(cv), acc_f = Accuracy(cf);
  RecordProperty("audio_accuracy", std::to_string(acc_a));
  RecordProperty("visual_accuracy", std::to_string(acc_v));
  RecordProperty("fused_accuracy", std::to_string(acc_f));
  std::cerr << "nearest-mean test accuracy: audio " << acc_a << ", visual " << acc_v << ", fused " << acc_f << "\n";
  // Learnable: well above chance (1/6) in each modality.
  EXPECT_GT(acc_a, 0.30);
  EXPECT_GT(acc_v, 0.30);
  // Not trivial: a clip-mean nearest-centroid classifier is far from perfect.
  EXPECT_LT(acc_f, 0.90);
  // Fusion helps.
  EXPECT_GT(acc_f, std::max(acc_a, acc_v) + 0.03);
  // Each modality confuses its own pairs more than the other modality does.
  EXPECT_GT(PairConfusion(ca, Emotion::kAnger, Emotion::kHappiness),
            PairConfusion(cv, Emotion::kAnger, Emotion::kHappiness));
  EXPECT_GT(PairConfusion(ca, Emotion::kNeutral, Emotion::kSadness),
            PairConfusion(cv, Emotion::kNeutral, Emotion::kSadness));
  EXPECT_GT(PairConfusion(cv, Emotion::kAnger, Emotion::kDisgust),
            PairConfusion(ca, Emotion::kAnger, Emotion::kDisgust));
  EXPECT_GT(PairConfusion(cv, Emotion::kFear, Emotion::kSadness),
            PairConfusion(ca, Emotion::kFear, Emotion::kSadness));
}

TEST_F(SynthStoreTest, SpeakersLeaveATraceThatSplitsMustRespect) {
  // Clips of the same actor are closer to each other than to other actors'
  // clips of the same class: speaker identity is in the features, so a
  // speaker-dependent split would flatter a model.
  auto store = FeatureStore::Open(*dir_);
  ASSERT_TRUE(store.ok());
  Pooled p = Pool(**store, 1);
  double same = 0, other = 0;
  int n_same = 0, n_other = 0;
  for (size_t i = 0; i < p.visual.size(); i += 7) {
    for (size_t j = i + 1; j < p.visual.size(); j += 5) {
      if (p.label[i] != p.label[j]) continue;
      double d2 = 0;
      for (size_t d = 0; d < p.visual[i].size(); ++d) d2 += std::pow(p.visual[i][d] - p.visual[j][d], 2);
      if (p.actor[i] == p.actor[j]) same += d2, n_same++;
      else other += d2, n_other++;
    }
  }
  ASSERT_GT(n_same, 10);
  EXPECT_LT(same / n_same, 0.7 * other / n_other);
}

TEST(SynthTest, BadOptionsAreRefused) {
  Logger log(stderr, LogLevel::kError);
  std::string root = testutil::FreshDir("");
  SynthOptions o = Tiny(root + "/x", 1, 1);
  o.label_files = {root + "/missing.csv"};
  auto r = SynthesizeStore(o, &log);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().file(), root + "/missing.csv");
  EXPECT_FALSE(std::filesystem::exists(root + "/x"));
  o = Tiny(root + "/x", 1, 1);
  o.audio_llds = -5;
  auto llds = SynthesizeStore(o, &log);
  ASSERT_FALSE(llds.ok());
  EXPECT_EQ(llds.status().field(), "--audio-llds");
  o.audio_llds = -1;
  o.visual_dim = 0;
  EXPECT_EQ(SynthesizeStore(o, &log).status().field(), "--visual-dim");
  o.visual_dim = -1;
  o.clips_per_actor = -3;
  EXPECT_EQ(SynthesizeStore(o, &log).status().field(), "--clips-per-actor");
  EXPECT_FALSE(std::filesystem::exists(root + "/x"));
  EXPECT_FALSE(ParseSynthProfile("huge").ok());
  EXPECT_EQ(ParseSynthProfile("huge").status().field(), "--profile");
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

TEST(SynthTest, ConfusablePairsAreSeededAndNeverSharedByBothModalities) {
  for (int k : {2, 3, 4, 5, 8}) {
    for (uint64_t seed : {1, 2, 3}) {
      const ConfusableGroups g = SeededConfusableGroups(k, seed);
      ASSERT_EQ(g.audio.size(), static_cast<size_t>(k));
      ASSERT_EQ(g.log_duration.size(), static_cast<size_t>(k));
      int audio_pairs = 0, visual_pairs = 0;
      for (int a = 0; a < k; ++a) {
        for (int b = a + 1; b < k; ++b) {
          audio_pairs += g.audio[a] == g.audio[b];
          visual_pairs += g.visual[a] == g.visual[b];
          EXPECT_FALSE(g.audio[a] == g.audio[b] && g.visual[a] == g.visual[b])
              << "classes " << a << " and " << b << " confusable in both modalities (K " << k << ")";
        }
      }
      EXPECT_EQ(audio_pairs, k / 3) << "K " << k;
      EXPECT_EQ(visual_pairs, k / 3) << "K " << k;
      const ConfusableGroups again = SeededConfusableGroups(k, seed);
      EXPECT_EQ(g.audio, again.audio);
      EXPECT_EQ(g.visual, again.visual);
      EXPECT_EQ(g.log_duration, again.log_duration);
    }
  }
}

TEST(SynthTest, AFourClassCorpusFromAGenericCsvAndAnAudioOnlyOneFromAnMspPodcastFile) {
  Logger log(stderr, LogLevel::kWarn);
  const std::string root = testutil::FreshDir("");
  {
    std::ofstream(root + "/four.csv") << testutil::FourClassLabelsCsv(20, 10);
  }
  SynthOptions o = testutil::FourClassSynth(root + "/four.csv", root + "/four");
  o.threads = 2;
  auto sum = SynthesizeStore(o, &log);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->clips, 200);
  auto four = FeatureStore::Open(o.out_dir);
  ASSERT_TRUE(four.ok()) << four.status().ToString();
  EXPECT_EQ((*four)->num_classes(), 4);
  EXPECT_EQ((*four)->manifest().partitions, (std::vector<int>{1, 2}));
  EXPECT_TRUE((*four)->manifest().synthetic);
  EXPECT_EQ((*four)->manifest().provenance["labels"]["format"], "generic");
  EXPECT_EQ((*four)->clip(0).group, "spk01");
  const StoreSummary info = SummarizeManifest((*four)->manifest());
  EXPECT_EQ(info.actors, 20);
  EXPECT_EQ(info.per_class, (std::vector<int64_t>{40, 80, 40, 40})) << "exc merged into hap";
  // Reproducible: the same seed gives the same bytes.
  o.out_dir = root + "/four-again";
  ASSERT_TRUE(SynthesizeStore(o, &log).ok());
  EXPECT_EQ(FileSums(root + "/four"), FileSums(root + "/four-again"));

  {
    std::ofstream(root + "/labels_consensus.csv") << testutil::MspPodcastLabelsCsv(20, 10);
  }
  SynthOptions m = testutil::MspAudioOnlySynth(root + "/labels_consensus.csv", root + "/msp");
  auto msp = SynthesizeStore(m, &log);
  ASSERT_TRUE(msp.ok()) << msp.status().ToString();
  EXPECT_EQ(msp->visual_dim, 0);
  EXPECT_EQ(msp->visual_frames, 0);
  auto store = FeatureStore::Open(m.out_dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_FALSE((*store)->has_visual());
  EXPECT_FALSE(std::filesystem::exists(m.out_dir + "/" + kVisualFile));
  EXPECT_EQ((*store)->class_names(), (std::vector<std::string>{"anger", "sadness", "happiness", "neutral"}));
  // 10 clips of 20 speakers, less 2 of O and X per speaker and one Test2 clip
  // (when it is not already O or X).
  EXPECT_LT((*store)->num_clips(), 200u - 40u);
  EXPECT_EQ((*store)->manifest().provenance["audio_only"], true);
  const int test2 = (*store)->manifest().provenance["labels"]["excluded_splits"]["Test2"].get<int>();
  EXPECT_GT(test2, 0);
  // `avctl data info` names the classes and says what the labels file lost.
  const StoreSummary summary = SummarizeManifest((*store)->manifest());
  const std::string text = RenderSummaryText(summary, false);
  EXPECT_NE(text.find("classes:     4 (A anger, S sadness, H happiness, N neutral)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("labels:      msp-podcast file, Test1 as Test; dropped labels: "), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("left-out splits: Test2 {}; merged: none\n", test2)), std::string::npos) << text;
  EXPECT_NE(text.find("   groups: 20 ("), std::string::npos) << text;
  EXPECT_NE(text.find("visual:      none (an audio-only store)"), std::string::npos) << text;
  EXPECT_EQ(SummaryToJson(summary)["class_names"], Json({"anger", "sadness", "happiness", "neutral"}));
  m.visual_dim = 8;
  m.out_dir = root + "/msp-bad";
  auto bad = SynthesizeStore(m, &log);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "--visual-dim");
}

}  // namespace
}  // namespace avctl
