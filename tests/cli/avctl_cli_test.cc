// Integration tests: run the real avctl binary as a process and check its
// output, exit codes and what it leaves on disk.

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/json_util.h"
#include "tests/process_runner.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

using testutil::ProcessRun;

ProcessRun Avctl(const std::string& args) {
  return testutil::RunCommand(std::string(AVCTL_BINARY_DIR) + "/bin/avctl " + args);
}

std::string Fresh(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path p = fs::path(::testing::TempDir()) / "avctl-cli-tests" / info->name() / name;
  fs::remove_all(p);
  fs::create_directories(p.parent_path());
  return p.string();
}

TEST(AvctlCliTest, UsageAndVersion) {
  EXPECT_EQ(Avctl("").exit_code, 2);
  ProcessRun help = Avctl("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("data"), std::string::npos);
  EXPECT_EQ(Avctl("version").exit_code, 0);
  ProcessRun unknown = Avctl("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("unknown command 'frobnicate'"), std::string::npos);
  ProcessRun bad_flag = Avctl("data synth --out x --no-such-flag");
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_NE(bad_flag.output.find("no-such-flag"), std::string::npos);
  ProcessRun missing = Avctl("data synth");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("--out"), std::string::npos) << missing.output;
}

TEST(AvctlCliTest, SynthThenInfoTextAndJson) {
  std::string store = Fresh("store");
  ProcessRun synth = Avctl("data synth --profile tiny --seed 5 --out " + store + " --log-level warn");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  EXPECT_NE(synth.output.find("546 clips"), std::string::npos) << synth.output;
  ProcessRun info = Avctl("data info " + store);
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("SYNTHETIC"), std::string::npos);
  EXPECT_NE(info.output.find("verified"), std::string::npos);
  EXPECT_NE(info.output.find("partition 5 Test"), std::string::npos);
  ProcessRun json = Avctl("data info --json " + store);
  ASSERT_EQ(json.exit_code, 0);
  auto j = ParseJson(json.output, "stdout");
  ASSERT_TRUE(j.ok()) << json.output;
  EXPECT_EQ((*j)["clips"], 546);
  EXPECT_EQ((*j)["actors"], 91);
  EXPECT_EQ((*j)["synthetic"], true);
  EXPECT_EQ((*j)["partitions"][0]["splits"]["Train"]["actors"], 63);
}

TEST(AvctlCliTest, ExistingStoreIsNotOverwrittenWithoutForce) {
  std::string store = Fresh("store");
  ASSERT_EQ(Avctl("data synth --profile tiny --out " + store).exit_code, 0);
  auto before = fs::last_write_time(store + "/manifest.json");
  ProcessRun again = Avctl("data synth --profile tiny --seed 9 --out " + store);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("exists"), std::string::npos);
  EXPECT_EQ(fs::last_write_time(store + "/manifest.json"), before);
  ProcessRun forced = Avctl("data synth --profile tiny --seed 9 --force --out " + store);
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
}

TEST(AvctlCliTest, CorruptStoreFailsInfoNamingTheFile) {
  std::string store = Fresh("store");
  ASSERT_EQ(Avctl("data synth --profile tiny --out " + store).exit_code, 0);
  {
    std::fstream f(store + "/audio.f32", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  ProcessRun info = Avctl("data info " + store);
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_NE(info.output.find(store + "/audio.f32"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("checksum"), std::string::npos);
  EXPECT_EQ(Avctl("data info --no-verify " + store).exit_code, 0);
}

TEST(AvctlCliTest, BadLabelFileNamesFileAndLine) {
  std::string dir = Fresh("labels");
  fs::create_directories(dir);
  std::ofstream(dir + "/partition_1.csv") << "FileName,angry,sad,disgust,fear,neutral,happy,SpkrID,Gender,Split_Set\n"
                                             "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,Male,Train\n"
                                             "1002_DFA_ANG_XX.wav,1,0,zero,0,0,0,1002,Male,Test\n";
  ProcessRun r = Avctl("data synth --labels " + dir + "/partition_1.csv --out " + dir + "/store");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(dir + "/partition_1.csv:3: field 'disgust'"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/store"));
}

// avctl data split (issue 28): by session, as IEMOCAP is split; the file
// written has a split column per partition; a missing column exits 1 naming it.
TEST(AvctlCliTest, DataSplitWritesGroupIndependentPartitions) {
  const std::string labels = Fresh("labels.csv"), out = Fresh("split.csv");
  {
    std::ofstream f(labels);
    f << "clip,session,emotion\n";
    for (int s = 1; s <= 5; ++s) {
      for (int i = 0; i < 24; ++i) f << "Ses0" << s << "_" << i << ",Ses0" << s << "," << "ahns"[i % 4] << "\n";
    }
  }
  ProcessRun run = Avctl("data split " + labels + " --group session --label emotion --partitions 2 --seed 9 --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("5 groups, classes a h n s, 2 partition(s), seed 9"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Train 72 clips / 3 groups"), std::string::npos) << run.output;
  std::ifstream in(out);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "clip,session,emotion,split_1,split_2");
  ProcessRun missing = Avctl("data split " + labels + " --group speaker --label emotion --out " + out);
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("no column 'speaker' (--group)"), std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find(labels), std::string::npos) << "names the file: " << missing.output;
}

TEST(AvctlCliTest, SynthOnAGenericLabelsFileAndItsOptionErrors) {
  const std::string dir = Fresh("generic");
  fs::create_directories(dir);
  std::ofstream(dir + "/labels.csv") << "clip,speaker,label,split\n"
                                        "a1,s1,ang,Train\na2,s1,neu,Train\nb1,s2,ang,Train\nb2,s2,neu,Train\n"
                                        "c1,s3,ang,Development\nc2,s3,neu,Development\nd1,s4,ang,Test\nd2,s4,neu,Test\n";
  ProcessRun ok = Avctl("data synth --format generic --labels " + dir + "/labels.csv --audio-only --profile tiny "
                        "--clips-per-actor 0 --log-level warn --out " + dir + "/store");
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("8 clips"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("no visual (audio only)"), std::string::npos) << ok.output;
  ProcessRun info = Avctl("data info " + dir + "/store");
  EXPECT_NE(info.output.find("visual:      none (an audio-only store)"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("ang"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("groups: 4 (0 male, 0 female), 2..2 clips per group"), std::string::npos) << info.output;

  ProcessRun crema_columns = Avctl("data synth --clip-column utt --out " + dir + "/x");
  EXPECT_NE(crema_columns.exit_code, 0);
  EXPECT_NE(crema_columns.output.find("--format"), std::string::npos) << crema_columns.output;
  ProcessRun no_labels = Avctl("data synth --format msp-podcast --out " + dir + "/x");
  EXPECT_NE(no_labels.exit_code, 0);
  EXPECT_NE(no_labels.output.find("needs --labels"), std::string::npos) << no_labels.output;
  ProcessRun bad_column = Avctl("data synth --format generic --group-column session --labels " + dir +
                                "/labels.csv --out " + dir + "/x");
  EXPECT_NE(bad_column.exit_code, 0);
  EXPECT_NE(bad_column.output.find("no column 'session' (--group-column)"), std::string::npos) << bad_column.output;
  EXPECT_NE(bad_column.output.find("labels.csv"), std::string::npos) << bad_column.output;
  ProcessRun bad_format = Avctl("data synth --format iemocap --labels " + dir + "/labels.csv --out " + dir + "/x");
  EXPECT_NE(bad_format.exit_code, 0);
  EXPECT_NE(bad_format.output.find("unknown label format 'iemocap'"), std::string::npos) << bad_format.output;
  ProcessRun test_set = Avctl("data synth --format generic --msp-test-set Test2 --labels " + dir +
                              "/labels.csv --out " + dir + "/x");
  EXPECT_NE(test_set.exit_code, 0);
  EXPECT_NE(test_set.output.find("--msp-test-set"), std::string::npos) << test_set.output;
  EXPECT_FALSE(fs::exists(dir + "/x"));

  // MSP-Podcast's Test2 as the test split of the shipped MSP-style example.
  const std::string msp = std::string(AVCTL_SOURCE_DIR) + "/data/examples/msp_podcast_style_labels_consensus.csv";
  ProcessRun test2 = Avctl("data synth --format msp-podcast --msp-test-set Test2 --labels " + msp +
                           " --audio-only --profile tiny --log-level warn --out " + dir + "/test2");
  ASSERT_EQ(test2.exit_code, 0) << test2.output;
  ProcessRun test2_info = Avctl("data info " + dir + "/test2");
  EXPECT_NE(test2_info.output.find("labels:      msp-podcast file, Test2 as Test; dropped labels: O "), std::string::npos)
      << test2_info.output;
  EXPECT_NE(test2_info.output.find("left-out splits: Test1 "), std::string::npos) << test2_info.output;
}

TEST(AvctlCliTest, SweepExpandListsJobsAndNamesBadFields) {
  ProcessRun paper = Avctl(std::string("sweep expand ") + AVCTL_SOURCE_DIR + "/sweeps/paper.json");
  ASSERT_EQ(paper.exit_code, 0) << paper.output;
  EXPECT_NE(paper.output.find("140 jobs"), std::string::npos) << paper.output;
  std::string bad = Fresh("bad.json");
  std::ofstream(bad) << R"({"name": "x", "dataset": {"store": "s"}, "seeds": 2,
                           "variants": [{"name": "mult", "overrides": {"train": {"lr": "fast"}}}]})";
  ProcessRun r = Avctl("sweep expand " + bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(bad + ": variants[0].overrides.train.lr: expected a number, got \"fast\""), std::string::npos)
      << r.output;
  EXPECT_EQ(Avctl("sweep").exit_code, 2);
}

TEST(AvctlCliTest, DemoRunsEndToEnd) {
  std::string work = Fresh("demo");
  ProcessRun r = Avctl("demo --profile tiny --workdir " + work);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("verified"), std::string::npos);
  EXPECT_TRUE(fs::exists(work + "/store/manifest.json"));
}

}  // namespace
}  // namespace avctl
