#include "babel/update_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace plexus::babel {
namespace {

const IpAddress kSource = *IpAddress::Parse("fe80::1");
const IpAddress kPeer = *IpAddress::Parse("fe80::2");

Update MakeUpdate(const std::string& prefix, uint16_t metric = 100) {
  Update u;
  u.prefix = *Prefix::Parse(prefix);
  u.interval = Centiseconds(1600);
  u.seqno = Seqno(1);
  u.metric = Metric(metric);
  u.router_id = RouterId::FromUint64(5);
  u.next_hop = kSource;
  return u;
}

std::vector<Tlv> Decode(const OutgoingPacket& p) {
  Result<Packet> decoded = DecodePacket(p.payload, kSource);
  EXPECT_TRUE(decoded.ok());
  std::vector<Tlv> out;
  for (const Tlv& t : decoded->tlvs) {
    if (!IsStateOrPadding(t)) out.push_back(t);
  }
  return out;
}

TEST(UpdateBufferTest, HellosFirstThenUpdatesSortedAndDeduplicatedThenRequests) {
  UpdateBuffer buffer;
  buffer.Add(1, std::nullopt, RouteRequest{});
  buffer.Add(1, std::nullopt, MakeUpdate("fd00:2::/64"));
  const Hello hello{0, Seqno(3), Centiseconds(400), 7u};
  buffer.Add(1, std::nullopt, hello);
  buffer.Add(1, std::nullopt, MakeUpdate("fd00:1::/64"));
  buffer.Add(1, std::nullopt, MakeUpdate("fd00:2::/64", 200));  // replaces the first
  std::vector<OutgoingPacket> out;
  const FlushCounts counts = buffer.Flush(1, kSource, kMaxPacketSize, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(counts.packets, 1u);
  EXPECT_EQ(counts.updates, 2u);
  EXPECT_EQ(counts.bytes, out[0].payload.size());
  const std::vector<Tlv> tlvs = Decode(out[0]);
  ASSERT_EQ(tlvs.size(), 4u);
  EXPECT_EQ(std::get<Hello>(tlvs[0]), hello);
  EXPECT_EQ(std::get<Update>(tlvs[1]).prefix, *Prefix::Parse("fd00:1::/64"));
  EXPECT_EQ(std::get<Update>(tlvs[2]).metric, Metric(200));
  EXPECT_EQ(std::get<RouteRequest>(tlvs[3]), RouteRequest{}) << "requests after updates";
  EXPECT_TRUE(buffer.empty());
}

TEST(UpdateBufferTest, SeparatesInterfacesAndDestinations) {
  UpdateBuffer buffer;
  buffer.Add(1, std::nullopt, RouteRequest{});
  buffer.Add(1, kPeer, RouteRequest{});
  buffer.Add(2, std::nullopt, RouteRequest{});
  std::vector<OutgoingPacket> out;
  EXPECT_EQ(buffer.Flush(1, kSource, kMaxPacketSize, out).requests, 2u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].destination, std::nullopt);
  EXPECT_EQ(out[1].destination, kPeer);
  EXPECT_EQ(out[1].interface_id, 1u);
  EXPECT_FALSE(buffer.empty());
  buffer.Drop(2);
  EXPECT_TRUE(buffer.empty());
}

TEST(UpdateBufferTest, SplitsIntoPacketsOfAtMostMaxSize) {
  for (const size_t max_size : {size_t{64}, size_t{200}, kMaxPacketSize}) {
    UpdateBuffer buffer;
    for (int i = 0; i < 300; ++i) {
      buffer.Add(1, std::nullopt, MakeUpdate("fd00:" + std::to_string(i) + "::/64"));
    }
    std::vector<OutgoingPacket> out;
    const FlushCounts counts = buffer.Flush(1, kSource, max_size, out);
    size_t updates = 0;
    for (const OutgoingPacket& p : out) {
      EXPECT_LE(p.payload.size(), max_size);
      updates += Decode(p).size();
    }
    EXPECT_EQ(updates, 300u) << max_size;
    EXPECT_EQ(counts.updates, 300u);
    EXPECT_EQ(counts.oversized, 0u);
  }
}

TEST(UpdateBufferTest, DropsATlvTooLargeForAnEmptyPacket) {
  UpdateBuffer buffer;
  buffer.Add(1, std::nullopt, MakeUpdate("fd00:1::/64"));
  std::vector<OutgoingPacket> out;
  const FlushCounts counts = buffer.Flush(1, kSource, 10, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(counts.oversized, 1u);
}

}  // namespace
}  // namespace plexus::babel
