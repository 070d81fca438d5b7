#include "sweeps/program_fingerprint.h"

#include "common/subprocess.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace avctl {
namespace {

namespace fs = std::filesystem;

class ProgramFingerprintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("avctl-fingerprint-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "src");
    std::ofstream(dir_ / "train.py") << "print('hello')\n";
    std::ofstream(dir_ / "src" / "run.sh") << "#!/bin/sh\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ProgramFingerprintTest, TheScriptIsTheFirstFileArgumentNotTheInterpreter) {
  const std::string w = dir_.string();
  EXPECT_EQ(FindScript({"python3", "-u", "train.py", "--lr=0.1"}, w), (dir_ / "train.py").string());
  EXPECT_EQ(FindScript({"./src/run.sh", "{args}"}, w), (dir_ / "src" / "run.sh").string());
  EXPECT_EQ(FindScript({"python3", "{config}", (dir_ / "train.py").string()}, ""), (dir_ / "train.py").string());
  EXPECT_EQ(FindScript({"python3", "-m", "pkg.train"}, w), "") << "a module, not a file";
  EXPECT_EQ(FindScript({"train.py"}, w), "") << "a bare first element is looked up in PATH";
  EXPECT_EQ(FindScript({}, w), "");
}

// Reference: printf "print('hello')\n" | sha256sum
TEST_F(ProgramFingerprintTest, Sha256MatchesCoreutils) {
  auto f = FingerprintProgram({"python3", "train.py"}, dir_.string(), {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->script_sha256, "03e693d9f2f687e0f40e36a8df7fcb4d1c22974012b7c2a55c000eb30f305824");
  EXPECT_EQ(f->script, (dir_ / "train.py").string());
  // printf '#!/bin/sh\n' | sha256sum
  auto sh = FileSha256((dir_ / "src" / "run.sh").string());
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ(*sh, "a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf");
  auto missing = FileSha256((dir_ / "nope.py").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().ToString().find("nope.py"), std::string::npos);
}

TEST_F(ProgramFingerprintTest, GitCommitAndWhetherTrackedFilesChanged) {
  const std::vector<std::string> env = ProcessEnvironment();
  EXPECT_TRUE(ReadGitState(dir_.string(), env).commit.empty()) << "not a repository";
  const std::string git = "git -C " + dir_.string() + " -c user.name=t -c user.email=t@t ";
  if (std::system((git + "init -q && " + git + "add train.py && " + git + "commit -q -m one").c_str()) != 0) {
    GTEST_SKIP() << "no git here";
  }
  GitState g = ReadGitState(dir_.string(), env);
  EXPECT_EQ(g.commit.size(), 40u) << g.commit;
  EXPECT_FALSE(g.dirty);
  std::ofstream(dir_ / "train.py", std::ios::app) << "# edited\n";
  GitState edited = ReadGitState((dir_ / "src").string(), env);
  EXPECT_EQ(edited.commit, g.commit) << "a subfolder of the repository";
  EXPECT_TRUE(edited.dirty);
  auto f = FingerprintProgram({"python3", "train.py"}, dir_.string(), env);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->git.commit, g.commit);
}

}  // namespace
}  // namespace avctl
