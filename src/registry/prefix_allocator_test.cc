#include "registry/prefix_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "testing/fake_random.h"

namespace plexus {
namespace {

using U128 = unsigned __int128;

Prefix P(std::string_view text) {
  Result<Prefix> p = Prefix::Parse(text);
  EXPECT_TRUE(p.ok()) << text;
  return p.ok() ? *p : Prefix();
}

std::vector<std::string> Strings(const std::vector<Prefix>& prefixes) {
  std::vector<std::string> out;
  out.reserve(prefixes.size());
  for (const Prefix& p : prefixes) out.push_back(p.ToString());
  return out;
}

U128 ToValue(const IpAddress& a) {
  U128 v = 0;
  for (std::byte b : a.bytes()) v = (v << 8) | static_cast<uint8_t>(b);
  return v;
}

Prefix FromValue(U128 v, IpFamily family, int length) {
  std::array<uint8_t, 16> b{};
  int n = family == IpFamily::kV4 ? 4 : 16;
  for (int i = n - 1; i >= 0; --i, v >>= 8) b[i] = static_cast<uint8_t>(v & 0xff);
  IpAddress a = n == 4 ? IpAddress::V4({b[0], b[1], b[2], b[3]}) : IpAddress::V6(b);
  return Prefix(a, length);
}

TEST(PrefixAllocator, ExhaustsSixteenSixtyFoursLowestFirstThenFailsClearly) {
  PrefixAllocator alloc(P("fd12::/60"));
  for (int i = 0; i < 16; ++i) {
    Result<Prefix> p = alloc.Allocate(64);
    ASSERT_TRUE(p.ok()) << i << ": " << p.error().message();
    U128 expected = ToValue(P("fd12::").address()) + (static_cast<U128>(i) << 64);
    EXPECT_EQ(*p, FromValue(expected, IpFamily::kV6, 64));
  }
  EXPECT_EQ(alloc.AllocatedCount(), 16u);
  EXPECT_EQ(alloc.FreeCount(64), 0u);
  EXPECT_TRUE(alloc.FreeBlocks().empty());
  Result<Prefix> p = alloc.Allocate(64);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message(), "no free /64 left in fd12::/60");
}

TEST(PrefixAllocator, FreeingInRandomOrderMergesBackToOneBlock) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    PrefixAllocator alloc(P("fd12:3456:789a::/56"));
    std::vector<Prefix> got;
    got.reserve(256);
    for (int i = 0; i < 256; ++i) got.push_back(*alloc.Allocate(64));
    testing::FakeRandom random(seed);
    for (size_t i = got.size(); i > 1; --i) {
      std::swap(got[i - 1], got[random.Uniform(static_cast<uint32_t>(i))]);
    }
    for (const Prefix& p : got) ASSERT_TRUE(alloc.Free(p).ok()) << p.ToString();
    EXPECT_EQ(Strings(alloc.FreeBlocks()), std::vector<std::string>{"fd12:3456:789a::/56"});
    EXPECT_EQ(alloc.AllocatedCount(), 0u);
  }
}

TEST(PrefixAllocator, MixedLengthsTakeTheSmallestFreeBlockThatFits) {
  PrefixAllocator alloc(P("fd12:3456:789a::/48"));
  EXPECT_EQ(alloc.Allocate(64)->ToString(), "fd12:3456:789a::/64");
  EXPECT_EQ(alloc.Allocate(56)->ToString(), "fd12:3456:789a:100::/56");
  EXPECT_EQ(alloc.Allocate(64)->ToString(), "fd12:3456:789a:1::/64");
  EXPECT_EQ(alloc.Allocate(60)->ToString(), "fd12:3456:789a:10::/60");
  EXPECT_EQ(alloc.Allocate(48).error().message(), "no free /48 left in fd12:3456:789a::/48");
  EXPECT_EQ(alloc.FreeCount(64), 65536u - 1 - 256 - 1 - 16);
  EXPECT_EQ(alloc.FreeCount(56), 256u - 2);  // minus the /56 and the one holding the rest
  EXPECT_TRUE(alloc.IsAllocated(P("fd12:3456:789a:100::/56")));
  EXPECT_FALSE(alloc.IsAllocated(P("fd12:3456:789a:100::/64")));
  EXPECT_EQ(alloc.FindAllocated(*IpAddress::Parse("fd12:3456:789a:1ff::1")),
            P("fd12:3456:789a:100::/56"));
  EXPECT_EQ(alloc.FindAllocated(*IpAddress::Parse("fd12:3456:789a:2::1")), std::nullopt);
  EXPECT_EQ(alloc.FindAllocated(*IpAddress::Parse("fd13::1")), std::nullopt);
  EXPECT_EQ(Strings(alloc.AllocatedBlocks()),
            (std::vector<std::string>{"fd12:3456:789a::/64", "fd12:3456:789a:1::/64",
                                      "fd12:3456:789a:10::/60", "fd12:3456:789a:100::/56"}));
}

TEST(PrefixAllocator, ReserveInsideAFreeBlockSplitsAroundIt) {
  PrefixAllocator alloc(P("fd12::/60"));
  ASSERT_TRUE(alloc.Reserve(P("fd12:0:0:5::/64")).ok());
  EXPECT_EQ(Strings(alloc.FreeBlocks()),
            (std::vector<std::string>{"fd12:0:0:8::/61", "fd12::/62", "fd12:0:0:6::/63",
                                      "fd12:0:0:4::/64"}));
  EXPECT_EQ(alloc.FreeCount(64), 15u);
  EXPECT_EQ(alloc.Allocate(64)->ToString(), "fd12:0:0:4::/64");
  EXPECT_EQ(alloc.Reserve(P("fd12:0:0:4::/63")).error().message(),
            "fd12:0:0:4::/63 overlaps the allocated fd12:0:0:4::/64");
  EXPECT_EQ(alloc.Reserve(P("fd12:0:0:5::/64")).error().message(),
            "fd12:0:0:5::/64 is already allocated");
  EXPECT_EQ(alloc.Reserve(P("fd12:0:0:5:8000::/65")).error().message(),
            "fd12:0:0:5:8000::/65 overlaps the allocated fd12:0:0:5::/64");
  ASSERT_TRUE(alloc.Free(P("fd12:0:0:5::/64")).ok());
  ASSERT_TRUE(alloc.Free(P("fd12:0:0:4::/64")).ok());
  EXPECT_EQ(Strings(alloc.FreeBlocks()), std::vector<std::string>{"fd12::/60"});
}

TEST(PrefixAllocator, ReserveTheWholeNetworkLeavesNothing) {
  PrefixAllocator alloc(P("10.42.0.0/16"));
  ASSERT_TRUE(alloc.Reserve(P("10.42.0.0/16")).ok());
  EXPECT_EQ(alloc.FreeCount(32), 0u);
  EXPECT_EQ(alloc.Allocate(32).error().message(), "no free /32 left in 10.42.0.0/16");
}

TEST(PrefixAllocator, RefusesDoubleFreeAndBlocksThatAreNotAllocated) {
  PrefixAllocator alloc(P("fd12::/48"));
  Prefix a = *alloc.Allocate(64);
  Prefix b = *alloc.Allocate(64);
  ASSERT_TRUE(alloc.Free(a).ok());
  EXPECT_EQ(alloc.Free(a).error().message(),
            "fd12::/64 is not allocated (it is free: double free?)");
  EXPECT_EQ(alloc.Free(P("fd12:0:0:2::/64")).error().message(),
            "fd12:0:0:2::/64 is not allocated (it is free: double free?)");
  // Part of an allocated block, or a block that contains one.
  EXPECT_EQ(alloc.Free(P("fd12:0:0:1::/65")).error().message(),
            "fd12:0:0:1::/65 is not allocated (the allocated block there is fd12:0:0:1::/64)");
  EXPECT_EQ(alloc.Free(P("fd12::/63")).error().message(),
            "fd12::/63 is not allocated (the allocated block there is fd12:0:0:1::/64)");
  EXPECT_EQ(alloc.Free(P("fd13::/64")).error().message(),
            "fd13::/64 is outside the network fd12::/48");
  EXPECT_EQ(alloc.Free(P("fd12::/40")).error().message(),
            "fd12::/40 is outside the network fd12::/48");
  EXPECT_EQ(alloc.Free(P("fd12:0:0:1::1/64")).error().message(),
            "fd12:0:0:1::1/64 has host bits set (the block is fd12:0:0:1::/64)");
  EXPECT_EQ(alloc.Free(P("10.0.0.0/24")).error().message(),
            "10.0.0.0/24 is not an IPv6 prefix like the network fd12::/48");
  EXPECT_TRUE(alloc.IsAllocated(b));
  ASSERT_TRUE(alloc.Free(b).ok());
  EXPECT_EQ(Strings(alloc.FreeBlocks()), std::vector<std::string>{"fd12::/48"});
}

TEST(PrefixAllocator, RefusesLengthsOutsideTheNetwork) {
  PrefixAllocator alloc(P("fd12::/48"));
  EXPECT_EQ(alloc.Allocate(40).error().message(), "length 40 is shorter than the network's 48");
  EXPECT_EQ(alloc.Allocate(129).error().message(),
            "length 129 is longer than an IPv6 address (128 bits)");
  PrefixAllocator v4(P("10.42.0.0/16"));
  EXPECT_EQ(v4.Allocate(33).error().message(),
            "length 33 is longer than an IPv4 address (32 bits)");
  EXPECT_EQ(v4.FreeCount(8), 0u);
}

TEST(PrefixAllocator, ClearsHostBitsOfTheNetwork) {
  PrefixAllocator alloc(P("fd12::1/48"));
  EXPECT_EQ(alloc.network().ToString(), "fd12::/48");
  EXPECT_EQ(alloc.Allocate(64)->ToString(), "fd12::/64");
}

TEST(PrefixAllocator, HandsOutEveryIpv4AddressOfASlash24) {
  PrefixAllocator alloc(P("10.42.7.0/24"));
  EXPECT_EQ(alloc.FreeCount(32), 256u);
  for (int i = 0; i < 256; ++i) {
    EXPECT_EQ(alloc.Allocate(32)->ToString(), "10.42.7." + std::to_string(i) + "/32");
  }
  EXPECT_EQ(alloc.Allocate(32).error().message(), "no free /32 left in 10.42.7.0/24");
  ASSERT_TRUE(alloc.Free(P("10.42.7.77/32")).ok());
  EXPECT_EQ(alloc.Allocate(32)->ToString(), "10.42.7.77/32");
}

// The smallest free block that fits wins over a lower address: the last /32
// goes to the buddy of the reserved broadcast address rather than splitting 10.42.0.2/31.
TEST(PrefixAllocator, ReservedNetworkAndBroadcastAddressesAreSkipped) {
  PrefixAllocator alloc(P("10.42.0.0/16"));
  ASSERT_TRUE(alloc.Reserve(P("10.42.0.0/32")).ok());
  ASSERT_TRUE(alloc.Reserve(P("10.42.255.255/32")).ok());
  EXPECT_EQ(alloc.FreeCount(32), 65534u);
  EXPECT_EQ(alloc.Allocate(32)->ToString(), "10.42.0.1/32");
  EXPECT_EQ(alloc.Allocate(30)->ToString(), "10.42.0.4/30");
  EXPECT_EQ(alloc.Allocate(32)->ToString(), "10.42.255.254/32");
  EXPECT_EQ(alloc.Allocate(32)->ToString(), "10.42.0.2/32");
}

TEST(PrefixAllocator, ScalesToEverySixtyFourOfASlash48) {
  PrefixAllocator alloc(P("fd12:3456:789a::/48"));
  EXPECT_EQ(alloc.FreeCount(64), 65536u);
  EXPECT_EQ(alloc.FreeCount(128), UINT64_MAX);  // 2^80 saturates
  std::vector<Prefix> got;
  for (int i = 0; i < 65536; ++i) {
    Result<Prefix> p = alloc.Allocate(64);
    ASSERT_TRUE(p.ok()) << p.error().message();
    got.push_back(*p);
  }
  EXPECT_EQ(got.back().ToString(), "fd12:3456:789a:ffff::/64");
  EXPECT_FALSE(alloc.Allocate(64).ok());
  EXPECT_EQ(alloc.FreeCount(128), 0u);
  for (const Prefix& p : got) ASSERT_TRUE(alloc.Free(p).ok());
  EXPECT_EQ(Strings(alloc.FreeBlocks()), std::vector<std::string>{"fd12:3456:789a::/48"});
}

TEST(PrefixAllocator, AllocatesSingleAddressesDownToSlash128) {
  PrefixAllocator alloc(P("fd12::/48"));
  EXPECT_EQ(alloc.Allocate(128)->ToString(), "fd12::/128");
  EXPECT_EQ(alloc.Allocate(128)->ToString(), "fd12::1/128");
  EXPECT_EQ(alloc.Allocate(64)->ToString(), "fd12:0:0:1::/64");
  EXPECT_EQ(alloc.FreeCount(64), 65534u);
  EXPECT_EQ(alloc.FreeCount(65), 1u + 65534u * 2);  // the /65 beside the two /128s
  EXPECT_EQ(alloc.FreeCount(127), UINT64_MAX);      // 65534 * 2^63 saturates
  ASSERT_TRUE(alloc.Free(P("fd12::/128")).ok());
  ASSERT_TRUE(alloc.Free(P("fd12::1/128")).ok());
  ASSERT_TRUE(alloc.Free(P("fd12:0:0:1::/64")).ok());
  EXPECT_EQ(Strings(alloc.FreeBlocks()), std::vector<std::string>{"fd12::/48"});
}

// Naive reference model: one flag per smallest unit of a small network.
class UnitModel {
 public:
  UnitModel(Prefix network, int unit_length)
      : network_(network),
        unit_length_(unit_length),
        used_(size_t{1} << (unit_length - network.length()), false) {}

  int units() const { return static_cast<int>(used_.size()); }
  int UnitsOf(int length) const { return 1 << (unit_length_ - length); }
  int FirstUnit(const Prefix& p) const {
    int shift = network_.address().bit_length() - unit_length_;
    return static_cast<int>((ToValue(p.address()) - ToValue(network_.address())) >> shift);
  }
  Prefix BlockAt(int first_unit, int length) const {
    int shift = network_.address().bit_length() - unit_length_;
    U128 v = ToValue(network_.address()) + (static_cast<U128>(first_unit) << shift);
    return FromValue(v, network_.family(), length);
  }
  bool AllFree(int first, int count) const {
    return std::none_of(used_.begin() + first, used_.begin() + first + count,
                        [](bool u) { return u; });
  }
  void Mark(const Prefix& p, bool used) {
    int first = FirstUnit(p);
    std::fill(used_.begin() + first, used_.begin() + first + UnitsOf(p.length()), used);
  }
  // Aligned blocks of `length` whose units are all free.
  uint64_t FreeAligned(int length) const {
    uint64_t n = 0;
    for (int first = 0; first < units(); first += UnitsOf(length)) {
      n += AllFree(first, UnitsOf(length)) ? 1 : 0;
    }
    return n;
  }
  const std::vector<bool>& used() const { return used_; }

 private:
  Prefix network_;
  int unit_length_;
  std::vector<bool> used_;
};

// Free and allocated blocks tile the network exactly, the allocated units are
// the model's, free buddies are always merged, and FreeCount agrees.
void ExpectConsistent(const PrefixAllocator& alloc, const UnitModel& model, int unit_length) {
  std::vector<int> cover(model.units(), 0);
  std::vector<bool> used(model.units(), false);
  for (const Prefix& p : alloc.AllocatedBlocks()) {
    int first = model.FirstUnit(p);
    for (int i = first; i < first + model.UnitsOf(p.length()); ++i) ++cover[i], used[i] = true;
  }
  std::set<Prefix> free;
  for (const Prefix& p : alloc.FreeBlocks()) {
    int first = model.FirstUnit(p);
    for (int i = first; i < first + model.UnitsOf(p.length()); ++i) ++cover[i];
    free.insert(p);
  }
  ASSERT_TRUE(std::all_of(cover.begin(), cover.end(), [](int c) { return c == 1; }))
      << "free and allocated blocks overlap or leave a hole";
  ASSERT_EQ(used, model.used());
  for (const Prefix& p : free) {
    if (p.length() == alloc.network().length()) continue;
    int first = model.FirstUnit(p);
    int buddy = first ^ model.UnitsOf(p.length());
    ASSERT_FALSE(free.contains(model.BlockAt(buddy, p.length())))
        << p.ToString() << " and its buddy are both free";
  }
  for (int l = alloc.network().length(); l <= unit_length; ++l) {
    ASSERT_EQ(alloc.FreeCount(l), model.FreeAligned(l)) << "/" << l;
  }
}

// One random Allocate, Reserve or Free, checked against the model.
void RandomStep(PrefixAllocator& alloc, UnitModel& model, std::vector<Prefix>& held,
                testing::FakeRandom& random, int unit_length) {
  int net = alloc.network().length();
  int length = net + static_cast<int>(random.Uniform(unit_length - net + 1));
  switch (random.Uniform(4)) {
    case 0: {
      Result<Prefix> p = alloc.Allocate(length);
      ASSERT_EQ(p.ok(), model.FreeAligned(length) > 0) << "/" << length;
      if (!p.ok()) return;
      ASSERT_EQ(p->length(), length);
      ASSERT_TRUE(alloc.network().Contains(*p));
      ASSERT_EQ(p->address(), p->Network().address());
      ASSERT_TRUE(model.AllFree(model.FirstUnit(*p), model.UnitsOf(length))) << p->ToString();
      model.Mark(*p, true);
      held.push_back(*p);
      return;
    }
    case 1: {
      int first = static_cast<int>(random.Uniform(model.units() / model.UnitsOf(length))) *
                  model.UnitsOf(length);
      Prefix p = model.BlockAt(first, length);
      bool expect = model.AllFree(first, model.UnitsOf(length));
      ASSERT_EQ(alloc.Reserve(p).ok(), expect) << p.ToString();
      if (!expect) return;
      model.Mark(p, true);
      held.push_back(p);
      return;
    }
    case 2: {  // a random block: freed only if it is exactly one we hold
      int first = static_cast<int>(random.Uniform(model.units() / model.UnitsOf(length))) *
                  model.UnitsOf(length);
      Prefix p = model.BlockAt(first, length);
      auto it = std::find(held.begin(), held.end(), p);
      ASSERT_EQ(alloc.Free(p).ok(), it != held.end()) << p.ToString();
      if (it == held.end()) return;
      model.Mark(p, false);
      held.erase(it);
      return;
    }
    default: {
      if (held.empty()) return;
      size_t i = random.Uniform(static_cast<uint32_t>(held.size()));
      ASSERT_TRUE(alloc.Free(held[i]).ok()) << held[i].ToString();
      ASSERT_FALSE(alloc.Free(held[i]).ok()) << "double free of " << held[i].ToString();
      model.Mark(held[i], false);
      held.erase(held.begin() + static_cast<ptrdiff_t>(i));
      return;
    }
  }
}

TEST(PrefixAllocator, MatchesANaiveUnitModelOverManySeeds) {
  struct Case {
    std::string_view network;
    int unit_length;
  };
  const Case kCases[] = {{"fd12:3456:789a::/56", 64}, {"10.42.7.0/24", 32}, {"fd00::/124", 128}};
  for (const Case& c : kCases) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      SCOPED_TRACE(::testing::Message() << c.network << " seed " << seed);
      testing::FakeRandom random(seed);
      PrefixAllocator alloc(P(c.network));
      UnitModel model(P(c.network), c.unit_length);
      std::vector<Prefix> held;
      for (int step = 0; step < 300; ++step) {
        ASSERT_NO_FATAL_FAILURE(RandomStep(alloc, model, held, random, c.unit_length));
        ASSERT_NO_FATAL_FAILURE(ExpectConsistent(alloc, model, c.unit_length));
      }
      for (const Prefix& p : held) ASSERT_TRUE(alloc.Free(p).ok());
      EXPECT_EQ(alloc.FreeBlocks(), std::vector<Prefix>{P(c.network)});
    }
  }
}

}  // namespace
}  // namespace plexus
