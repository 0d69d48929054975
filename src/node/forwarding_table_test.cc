#include "node/forwarding_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "testing/fake_random.h"

namespace plexus::node {
namespace {

using Kind = ForwardingTarget::Kind;

Prefix P(std::string_view text) {
  return *Prefix::Parse(text);
}
IpAddress A(std::string_view text) {
  return *IpAddress::Parse(text);
}
ForwardingTarget Peer(uint32_t i) {
  return {Kind::kPeer, i};
}
constexpr ForwardingTarget kLocal{Kind::kLocal, 0};
constexpr ForwardingTarget kUnreachable{Kind::kUnreachable, 0};

TEST(ForwardingTable, LongestDestinationWinsInBothFamilies) {
  ForwardingTable t;
  ASSERT_TRUE(t.Insert({P("fd00::/48"), std::nullopt, kUnreachable}));
  ASSERT_TRUE(t.Insert({P("fd00:0:0:1::/64"), std::nullopt, Peer(1)}));
  ASSERT_TRUE(t.Insert({P("fd00:0:0:2::1/128"), std::nullopt, kLocal}));
  ASSERT_TRUE(t.Insert({P("10.0.0.0/8"), std::nullopt, Peer(2)}));
  const IpAddress any6 = A("2001:db8::1"), any4 = A("192.0.2.1");
  EXPECT_EQ(t.Lookup(A("fd00::9"), any6), kUnreachable);
  EXPECT_EQ(t.Lookup(A("fd00:0:0:1::9"), any6), Peer(1));
  EXPECT_EQ(t.Lookup(A("fd00:0:0:2::1"), any6), kLocal);
  EXPECT_EQ(t.Lookup(A("10.1.2.3"), any4), Peer(2));
  EXPECT_FALSE(t.Lookup(A("fd01::1"), any6));
  EXPECT_FALSE(t.Lookup(A("11.0.0.1"), any4));
  EXPECT_FALSE(t.Lookup(A("10.1.2.3"), any6)) << "mixed families never match";
  EXPECT_EQ(t.size(), 4u);
}

// RFC 9079 §3.1: destination first, then the most specific source.
TEST(ForwardingTable, SourceSpecificEntriesDestinationFirst) {
  ForwardingTable t;
  ASSERT_TRUE(t.Insert({P("::/0"), P("fd00:1::/48"), Peer(1)}));      // gateway for the overlay
  ASSERT_TRUE(t.Insert({P("::/0"), P("fd00:1:0:5::/64"), Peer(2)}));  // a more specific source
  ASSERT_TRUE(t.Insert({P("fd00:2::/48"), std::nullopt, Peer(3)}));
  ASSERT_TRUE(t.Insert({P("fd00:2::/48"), P("fd00:1:0:7::/64"), Peer(4)}));
  EXPECT_EQ(t.Lookup(A("2001:db8::1"), A("fd00:1::1")), Peer(1));
  EXPECT_EQ(t.Lookup(A("2001:db8::1"), A("fd00:1:0:5::1")), Peer(2));
  EXPECT_FALSE(t.Lookup(A("2001:db8::1"), A("2001:db8::2"))) << "source outside every entry";
  // The longer destination wins even over a more specific source elsewhere.
  EXPECT_EQ(t.Lookup(A("fd00:2::1"), A("fd00:1:0:5::1")), Peer(3));
  EXPECT_EQ(t.Lookup(A("fd00:2::1"), A("fd00:1:0:7::1")), Peer(4));
}

TEST(ForwardingTable, FallsBackToAShorterDestinationWhenNoSourceMatches) {
  ForwardingTable t;
  ASSERT_TRUE(t.Insert({P("10.0.0.0/24"), P("10.9.0.0/16"), Peer(1)}));
  ASSERT_TRUE(t.Insert({P("10.0.0.0/8"), std::nullopt, Peer(2)}));
  EXPECT_EQ(t.Lookup(A("10.0.0.5"), A("10.9.1.1")), Peer(1));
  EXPECT_EQ(t.Lookup(A("10.0.0.5"), A("10.8.1.1")), Peer(2));
}

TEST(ForwardingTable, RefusesDuplicatesAndMixedFamilies) {
  ForwardingTable t;
  ASSERT_TRUE(t.Insert({P("10.0.0.7/24"), std::nullopt, Peer(1)}));
  EXPECT_FALSE(t.Insert({P("10.0.0.0/24"), std::nullopt, Peer(2)}));
  ASSERT_TRUE(t.Insert({P("10.0.0.0/24"), P("10.1.0.0/16"), Peer(2)}));
  EXPECT_FALSE(t.Insert({P("10.0.0.0/24"), P("10.1.2.0/16"), Peer(3)}));
  EXPECT_FALSE(t.Insert({P("10.0.0.0/24"), P("fd00::/8"), Peer(3)}));
  EXPECT_EQ(t.Lookup(A("10.0.0.1"), A("1.2.3.4")), Peer(1));
  EXPECT_EQ(t.size(), 2u);
}

TEST(ForwardingTable, LooksUpParsedPackets) {
  ForwardingTable t;
  ASSERT_TRUE(t.Insert({P("fd00::2/128"), P("fd00::1/128"), Peer(7)}));
  Bytes packet(40);
  packet[0] = std::byte{0x60};
  const IpAddress src = A("fd00::1"), dst = A("fd00::2");
  std::copy(src.bytes().begin(), src.bytes().end(), packet.begin() + 8);
  std::copy(dst.bytes().begin(), dst.bytes().end(), packet.begin() + 24);
  std::optional<IpPacketView> ip = ParseIpPacket(packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(t.Lookup(*ip), Peer(7));
}

// ---------------------------------------------------------------------------
// Against a deliberately naive model: scan every entry.

IpAddress RandomAddress(testing::FakeRandom& random, bool v6, bool probe) {
  std::array<uint8_t, 16> b{};
  b[0] = v6 ? 0xfd : 10;
  // Few distinct high bytes so prefixes nest and collide.
  for (int k = 1; k < 16; ++k) {
    b[k] = static_cast<uint8_t>(random.Uniform(k < 3 ? 4 : (probe ? 256 : 2)));
  }
  return v6 ? IpAddress::V6(b) : IpAddress::V4({b[0], b[1], b[2], b[3]});
}

Prefix RandomPrefix(testing::FakeRandom& random, bool v6) {
  return Prefix(RandomAddress(random, v6, false), static_cast<int>(random.Uniform(v6 ? 129 : 33)))
      .Network();
}

std::optional<ForwardingTarget> NaiveLookup(const std::vector<ForwardingEntry>& entries,
                                            const IpAddress& dst, const IpAddress& src) {
  const ForwardingEntry* best = nullptr;
  auto rank = [](const ForwardingEntry& e) {
    return std::pair(e.destination.length(), e.source ? e.source->length() : -1);
  };
  for (const ForwardingEntry& e : entries) {
    if (!e.destination.Contains(dst) || (e.source && !e.source->Contains(src))) continue;
    if (best == nullptr || rank(e) > rank(*best)) best = &e;
  }
  if (best == nullptr) return std::nullopt;
  return best->target;
}

TEST(ForwardingTable, MatchesNaiveModelOnRandomTables) {
  testing::FakeRandom random(11);
  for (int round = 0; round < 40; ++round) {
    ForwardingTable t;
    std::vector<ForwardingEntry> model;
    for (uint32_t i = 0; i < 80; ++i) {
      const bool v6 = random.Uniform(2) == 1;
      ForwardingEntry e{RandomPrefix(random, v6), std::nullopt, Peer(i)};
      if (random.Uniform(3) == 0) e.source = RandomPrefix(random, v6);
      bool dup = false;
      for (const ForwardingEntry& m : model) {
        dup |= m.destination == e.destination && m.source == e.source;
      }
      EXPECT_EQ(t.Insert(e).ok(), !dup);
      if (!dup) model.push_back(e);
    }
    EXPECT_EQ(t.size(), model.size());
    for (int probe = 0; probe < 400; ++probe) {
      const bool v6 = random.Uniform(2) == 1;
      const IpAddress dst = RandomAddress(random, v6, random.Uniform(2) == 0);
      const IpAddress src = RandomAddress(random, v6, random.Uniform(2) == 0);
      EXPECT_EQ(t.Lookup(dst, src), NaiveLookup(model, dst, src))
          << dst.ToString() << " from " << src.ToString();
    }
  }
}

}  // namespace
}  // namespace plexus::node
