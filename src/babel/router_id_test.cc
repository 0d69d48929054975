#include "babel/router_id.h"

#include <gtest/gtest.h>

namespace plexus::babel {
namespace {

TEST(RouterIdTest, AllZerosAndAllOnesAreInvalid) {
  struct Case {
    uint64_t v;
    bool valid;
  };
  const Case cases[] = {
      {0, false},         {~uint64_t{0}, false},    {1, true},
      {1ull << 63, true}, {~uint64_t{0} - 1, true}, {0x0102030405060708, true},
  };
  for (const auto& c : cases) EXPECT_EQ(RouterId::FromUint64(c.v).IsValid(), c.valid) << c.v;
  EXPECT_FALSE(RouterId().IsValid());
}

TEST(RouterIdTest, BytesAreBigEndian) {
  const RouterId id = RouterId::FromUint64(0x0102030405060708);
  EXPECT_EQ(ToHex(id.bytes()), "0102030405060708");
  EXPECT_EQ(id.ToString(), "01:02:03:04:05:06:07:08");
  EXPECT_EQ(RouterId::FromBytes(id.bytes()), id);
}

TEST(RouterIdTest, OrdersByBytes) {
  EXPECT_LT(RouterId::FromUint64(1), RouterId::FromUint64(2));
  EXPECT_LT(RouterId::FromUint64(0xFF), RouterId::FromUint64(0x100));
}

}  // namespace
}  // namespace plexus::babel
