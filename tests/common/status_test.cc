#include "common/status.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, RendersFileLineFieldMessage) {
  Status s = Status::InvalidArgument("not a number").WithFile("a.csv").WithLine(12).WithField("angry");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "a.csv:12: field 'angry': not a number");
}

TEST(StatusTest, InnermostContextWins) {
  Status s = Status::Corruption("bad").WithFile("inner.npy").WithFile("outer.npy").WithLine(3).WithLine(9);
  EXPECT_EQ(s.file(), "inner.npy");
  EXPECT_EQ(s.line(), 3);
}

TEST(StatusTest, OkIgnoresContext) {
  Status s = Status::OK().WithFile("x");
  EXPECT_TRUE(s.file().empty());
}

TEST(StatusTest, AnnotatePrefixes) {
  Status s = Status::IOError("disk full").Annotate("writing audio");
  EXPECT_EQ(s.message(), "writing audio: disk full");
}

TEST(StatusTest, MessageThatNamesItsPathIsNotPrefixedTwice) {
  Status s = Status::InvalidArgument("train.lr: expected a number").WithField("train.lr").WithFile("job.json");
  EXPECT_EQ(s.ToString(), "job.json: train.lr: expected a number");
}

TEST(StatusTest, LineWithoutFile) {
  EXPECT_EQ(Status::InvalidArgument("x").WithLine(4).ToString(), "line 4: x");
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  AVCTL_ASSIGN_OR_RETURN(int h, Half(x));
  AVCTL_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(ResultTest, ValueAndError) {
  auto ok = Quarter(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "odd");
}

TEST(ResultTest, OkStatusWithoutValueIsInternalError) {
  Result<int> r{Status::OK()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace avctl
