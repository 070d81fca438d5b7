#include "common/log.h"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "common/json_util.h"

namespace avctl {
namespace {

std::string Capture(bool json, LogLevel min, void (*emit)(Logger&)) {
  std::FILE* f = std::tmpfile();
  {
    Logger log(f, min, json);
    emit(log);
  }
  std::rewind(f);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

TEST(LoggerTest, TextLinesHaveTimestampLevelAndMessage) {
  std::string out = Capture(false, LogLevel::kInfo, [](Logger& log) {
    log.Debug("hidden {}", 1);
    log.Info("clips {} of {}", 3, 7);
    log.Error("bad {}", "thing");
  });
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("INFO  clips 3 of 7\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ERROR bad thing\n"), std::string::npos);
  // 2026-11-24T19:28:01.304Z
  ASSERT_GE(out.size(), 24u);
  EXPECT_EQ(out[4], '-');
  EXPECT_EQ(out[10], 'T');
  EXPECT_EQ(out[23], 'Z');
}

TEST(LoggerTest, JsonLinesParse) {
  std::string out = Capture(true, LogLevel::kDebug, [](Logger& log) { log.Warn("quote \" and newline \n inside"); });
  auto j = ParseJson(out, "log");
  ASSERT_TRUE(j.ok()) << out;
  EXPECT_EQ((*j)["level"], "warn");
  EXPECT_EQ((*j)["msg"], "quote \" and newline \n inside");
  EXPECT_TRUE((*j)["ts"].is_string());
}

TEST(LoggerTest, ParseLevels) {
  LogLevel l;
  EXPECT_TRUE(ParseLogLevel("warn", &l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("loud", &l));
}

}  // namespace
}  // namespace avctl
