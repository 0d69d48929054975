#include "base/result.h"

#include <gtest/gtest.h>

namespace plexus {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return MakeError("{} is odd", x);
  return x / 2;
}

TEST(Result, HoldsValueOrError) {
  auto a = Half(4);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 2);
  auto b = Half(3);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message(), "3 is odd");
  EXPECT_EQ(b.error().Wrap("halving").message(), "halving: 3 is odd");
}

TEST(Status, DefaultsToOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  Status e = MakeError("bad");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.error().message(), "bad");
}

}  // namespace
}  // namespace plexus
