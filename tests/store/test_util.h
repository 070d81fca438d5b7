// Helpers shared by the store tests: temporary directories and small label files.
#pragma once

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace avctl::testutil {

// A fresh, empty directory unique to the running test.
inline std::string FreshDir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path p = std::filesystem::path(::testing::TempDir()) / "avctl-tests" /
                            (std::string(info->test_suite_name()) + "." + info->name()) / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

inline std::string ShippedLabels(int partition) {
  return std::string(AVCTL_SOURCE_DIR) + "/data/crema-d/partition_" + std::to_string(partition) + ".csv";
}

inline constexpr const char* kLabelHeader = "FileName,angry,sad,disgust,fear,neutral,happy,SpkrID,Gender,Split_Set\n";

}  // namespace avctl::testutil
