#include "tickflow/core/result.hpp"

#include <gtest/gtest.h>

namespace tickflow {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return MakeError(ErrorCode::kInvalidArgument, "odd value " + std::to_string(v));
  return v / 2;
}

Result<int> Quarter(int v) {
  TICKFLOW_ASSIGN_OR_RETURN(int h, Half(v));
  return Half(h);
}

Status CheckEven(int v) {
  TICKFLOW_RETURN_IF_ERROR(Half(v));
  return {};
}

TEST(ResultTest, CarriesValueOrError) {
  EXPECT_EQ(Quarter(8).value(), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message, "odd value 3");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(5).ok());
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  EXPECT_DEATH({ auto v = Half(3).value(); (void)v; }, "value\\(\\) on an error Result");
}

}  // namespace
}  // namespace tickflow

#include "tickflow/core/text.hpp"

namespace tickflow {
namespace {

TEST(TextTest, GroupsThousands) {
  EXPECT_EQ(WithThousands(0), "0");
  EXPECT_EQ(WithThousands(999), "999");
  EXPECT_EQ(WithThousands(1000), "1,000");
  EXPECT_EQ(WithThousands(1234567), "1,234,567");
}

}  // namespace
}  // namespace tickflow
