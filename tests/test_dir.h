// A fresh scratch directory for the running test: the tests of every module
// use it instead of composing temp paths themselves.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace avctl::testutil {

// <tmp>/avctl-<prefix>-<pid>-<test name>, emptied and created.
inline std::filesystem::path FreshTestDir(const std::string& prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      fmt::format("avctl-{}-{}-{}", prefix, ::getpid(), info != nullptr ? info->name() : "suite");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace avctl::testutil
