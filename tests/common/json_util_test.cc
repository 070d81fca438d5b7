#include "common/json_util.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

TEST(JsonUtilTest, ParseErrorNamesSourceAndByte) {
  auto r = ParseJson("{\"a\": 1,, }", "spec.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().file(), "spec.json");
  EXPECT_NE(r.status().message().find("byte"), std::string::npos);
}

TEST(JsonUtilTest, GettersNameThePath) {
  Json j = Json::parse(R"({"variants": [{"overrides": {"lr": "fast", "n": 3}}]})");
  const Json& o = j["variants"][0]["overrides"];
  auto lr = GetNumber(o, "lr", "variants[2].overrides");
  ASSERT_FALSE(lr.ok());
  EXPECT_EQ(lr.status().message(), "variants[2].overrides.lr: expected a number, got \"fast\"");
  EXPECT_EQ(lr.status().field(), "variants[2].overrides.lr");
  EXPECT_EQ(*GetInt(o, "n", "x"), 3);
  auto missing = GetString(o, "name", "variants[2].overrides");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "variants[2].overrides.name: missing");
}

TEST(JsonUtilTest, IntegerIsNotAcceptedForString) {
  Json j = {{"id", 5}};
  auto r = GetString(j, "id", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "id: expected a string, got number 5");
}

TEST(JsonUtilTest, NumberArrays) {
  Json j = {{"soft", {0.1, 0.2, "x"}}, {"ok", {1, 2}}};
  auto bad = GetNumberArray(j, "soft", "clips[0]", 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "clips[0].soft[2]");
  auto wrong_len = GetNumberArray(j, "ok", "", 3);
  ASSERT_FALSE(wrong_len.ok());
  EXPECT_NE(wrong_len.status().message().find("expected 3 numbers, got 2"), std::string::npos);
  EXPECT_EQ(GetNumberArray(j, "ok", "")->size(), 2u);
}

TEST(JsonUtilTest, NonObjectParent) {
  Json j = Json::array();
  auto r = GetInt(j, "a", "root");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected an object"), std::string::npos);
}

TEST(JsonUtilTest, PathJoin) {
  EXPECT_EQ(JoinJsonPath("", "a"), "a");
  EXPECT_EQ(JoinJsonPath("a", "b"), "a.b");
  EXPECT_EQ(JoinJsonPath("a", size_t{3}), "a[3]");
}

}  // namespace
}  // namespace avctl
