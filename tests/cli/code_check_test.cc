#include "cli/code_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace avctl::cli {
namespace {

namespace fs = std::filesystem;

TEST(CodeCheck, NamesEachVariantWhoseStoredResultsRanAnotherScript) {
  std::map<std::string, ProgramFingerprint> now = {
      {"mine", {"/w/train.py", std::string(64, 'c')}},
      {"base", {"/w/base.py", std::string(64, 'b')}},
  };
  const Json stored = Json::array({
      {{"variant", "mine"}, {"script", "/w/train.py"}, {"script_sha256", std::string(64, 'a')}, {"results", 8}},
      {{"variant", "mine"}, {"script", "/w/train.py"}, {"script_sha256", std::string(64, 'c')}, {"results", 2}},
      {{"variant", "mine"}, {"script", ""}, {"script_sha256", ""}, {"results", 1}},
      {{"variant", "base"}, {"script", "/w/base.py"}, {"script_sha256", std::string(64, 'b')}, {"results", 10}},
  });
  EXPECT_EQ(ChangedCode(now, stored),
            "  variant mine: 9 stored result(s) ran another version of /w/train.py (sha256 aaaaaaaaaaaa, no recorded "
            "script); it is now cccccccccccc\n");
  EXPECT_EQ(ChangedCode(now, Json::array()), "") << "a new sweep";
  now["mine"].script_sha256 = std::string(64, 'a');
  EXPECT_EQ(ChangedCode(now, Json::array({stored[0]})), "");
  // The same script at another commit: what it imports may have changed.
  now["base"].git.commit = std::string(40, 'e');
  const Json at_commit = Json::array({{{"variant", "base"}, {"script", "/w/base.py"},
                                       {"script_sha256", std::string(64, 'b')}, {"git_commit", std::string(40, 'd')},
                                       {"results", 3}}});
  EXPECT_EQ(ChangedCode(now, at_commit), "  variant base: 3 stored result(s) ran /w/base.py at another commit "
                                         "(dddddddddddd); its repository is now at eeeeeeeeeeee\n");
}

TEST(CodeCheck, FingerprintsTheCommandVariantsItCanReach) {
  const fs::path dir = fs::temp_directory_path() / ("avctl-code-check-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "train.sh") << "#!/bin/sh\n";
  SweepSpec spec;
  SweepVariant reachable, unreachable, builtin;
  reachable.name = "mine";
  reachable.kind = JobKind::kCommand;
  reachable.program = {{"command", {"sh", "train.sh", "{args}"}}, {"workdir", dir.string()}};
  unreachable.name = "elsewhere";
  unreachable.kind = JobKind::kCommand;
  unreachable.program = {{"command", {"python3", "train.py"}}, {"workdir", "/not/mounted/here"}};
  builtin.name = "ladder";
  spec.variants = {reachable, unreachable, builtin};
  std::vector<std::string> unchecked;
  const auto now = CurrentCode(spec, &unchecked);
  ASSERT_EQ(now.size(), 1u);
  // printf '#!/bin/sh\n' | sha256sum
  EXPECT_EQ(now.at("mine").script_sha256, "a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf");
  EXPECT_EQ(unchecked, std::vector<std::string>{"elsewhere"});
  fs::remove_all(dir);
}

}  // namespace
}  // namespace avctl::cli
