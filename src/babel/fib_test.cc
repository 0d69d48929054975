#include "babel/fib.h"

#include <gtest/gtest.h>

namespace plexus::babel {
namespace {

Destination Dest(const char* prefix) {
  return {*Prefix::Parse(prefix), std::nullopt};
}

InstalledRoute Route(const char* prefix, uint16_t metric = 96, uint32_t interface = 1) {
  return {Dest(prefix), interface, *IpAddress::Parse("fe80::1"), Metric(metric),
          RouterId::FromUint64(1)};
}

TEST(FibTest, VersionChangesOnlyWithContent) {
  Fib fib;
  EXPECT_EQ(fib.version(), 0u);
  fib.Set(Dest("fd00::/64"), std::nullopt);
  EXPECT_EQ(fib.version(), 0u) << "removing nothing";
  fib.Set(Dest("fd00::/64"), Route("fd00::/64"));
  EXPECT_EQ(fib.version(), 1u);
  fib.Set(Dest("fd00::/64"), Route("fd00::/64"));
  EXPECT_EQ(fib.version(), 1u) << "the same route again";
  fib.Set(Dest("fd00::/64"), Route("fd00::/64", 97));
  EXPECT_EQ(fib.version(), 2u) << "metric";
  fib.Set(Dest("fd00::/64"), Route("fd00::/64", 97, 2));
  EXPECT_EQ(fib.version(), 3u) << "interface";
  fib.Set(Dest("fd00::/64"), std::nullopt);
  EXPECT_EQ(fib.version(), 4u);
  EXPECT_EQ(fib.size(), 0u);
}

TEST(FibTest, EntriesAreSortedByDestination) {
  Fib fib;
  fib.Set(Dest("fd00:2::/64"), Route("fd00:2::/64"));
  fib.Set(Dest("10.0.0.0/8"), Route("10.0.0.0/8"));
  fib.Set(Dest("fd00:1::/64"), Route("fd00:1::/64"));
  const std::vector<InstalledRoute> entries = fib.Entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].destination, Dest("10.0.0.0/8"));
  EXPECT_EQ(entries[1].destination, Dest("fd00:1::/64"));
  EXPECT_EQ(entries[2].destination, Dest("fd00:2::/64"));
  EXPECT_EQ(fib.Destinations(), (std::vector<Destination>{Dest("10.0.0.0/8"), Dest("fd00:1::/64"),
                                                          Dest("fd00:2::/64")}));
}

}  // namespace
}  // namespace plexus::babel
