#include "babel/xroute_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace plexus::babel {
namespace {

const RouterId kMe = RouterId::FromUint64(0x1111);
const RouterId kOther = RouterId::FromUint64(0x2222);

Destination Dest(const char* prefix, std::optional<const char*> source = std::nullopt) {
  Destination d{*Prefix::Parse(prefix), std::nullopt};
  if (source) d.source_prefix = *Prefix::Parse(*source);
  return d;
}

TEST(XrouteTableTest, AddAnnouncesWithOurRouterIdSeqnoAndMetricZeroByDefault) {
  XrouteTable table(kMe, Seqno(7));
  auto out = table.Add(Dest("fd00:1::/64"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out,
            (XrouteOutput{XrouteAction::kAnnounce, Dest("fd00:1::/64"), Metric(0), kMe, Seqno(7)}));
}

TEST(XrouteTableTest, AddAndRemoveOutputs) {
  struct Case {
    const char* name;
    bool present_before;
    uint16_t old_metric;
    bool add;  // else remove
    uint16_t metric;
    std::optional<XrouteAction> expected;
  };
  const std::vector<Case> cases = {
      {"new xroute is announced", false, 0, true, 0, XrouteAction::kAnnounce},
      {"same metric again is silent", true, 0, true, 0, std::nullopt},
      {"changed metric is announced", true, 0, true, 100, XrouteAction::kAnnounce},
      {"adding with infinite metric retracts", true, 0, true, kMetricInfinity,
       XrouteAction::kRetract},
      {"adding unknown with infinite metric is silent", false, 0, true, kMetricInfinity,
       std::nullopt},
      {"removing an xroute retracts", true, 5, false, 0, XrouteAction::kRetract},
      {"removing an unknown prefix is silent", false, 0, false, 0, std::nullopt},
  };
  for (const Case& c : cases) {
    XrouteTable table(kMe, Seqno(1));
    if (c.present_before) (void)table.Add(Dest("10.1.0.0/24"), Metric(c.old_metric));
    auto out = c.add ? table.Add(Dest("10.1.0.0/24"), Metric(c.metric))
                     : table.Remove(Dest("10.1.0.0/24"));
    ASSERT_EQ(out.has_value(), c.expected.has_value()) << c.name;
    if (!out) continue;
    EXPECT_EQ(out->action, *c.expected) << c.name;
    EXPECT_EQ(out->metric,
              c.add && c.metric != kMetricInfinity ? Metric(c.metric) : Metric::Infinity())
        << c.name;
    EXPECT_EQ(table.size(), out->action == XrouteAction::kAnnounce ? 1u : 0u) << c.name;
  }
}

// RFC 9079: a source-specific xroute is a different destination from the plain one.
TEST(XrouteTableTest, SourcePrefixMakesASeparateXroute) {
  XrouteTable table(kMe, Seqno(1));
  ASSERT_TRUE(table.Add(Dest("::/0")).has_value());
  ASSERT_TRUE(table.Add(Dest("::/0", "fd00:1::/48"), Metric(10)).has_value());
  EXPECT_EQ(table.size(), 2u);
  ASSERT_TRUE(table.Remove(Dest("::/0", "fd00:1::/48")).has_value());
  ASSERT_NE(table.Find(Dest("::/0")), nullptr);
  EXPECT_EQ(table.Find(Dest("::/0", "fd00:1::/48")), nullptr);
}

// RFC 8966 §3.8.1.2 for requests that reach the originator.
TEST(XrouteTableTest, SeqnoRequestAnswers) {
  struct Case {
    const char* name;
    uint16_t ours;
    RouterId asked_router;
    uint16_t asked_seqno;
    const char* prefix;
    XrouteSeqnoAnswer expected;
    uint16_t seqno_after;
  };
  const std::vector<Case> cases = {
      {"newer seqno bumps by one", 10, kMe, 11, "fd00:1::/64",
       XrouteSeqnoAnswer::kBumpAndSendUpdate, 11},
      {"much newer seqno still bumps by one only", 10, kMe, 500, "fd00:1::/64",
       XrouteSeqnoAnswer::kBumpAndSendUpdate, 11},
      {"equal seqno only sends an update", 10, kMe, 10, "fd00:1::/64",
       XrouteSeqnoAnswer::kSendUpdate, 10},
      {"older seqno only sends an update", 10, kMe, 9, "fd00:1::/64",
       XrouteSeqnoAnswer::kSendUpdate, 10},
      {"bump wraps 0xFFFF to 0", 0xFFFF, kMe, 0, "fd00:1::/64",
       XrouteSeqnoAnswer::kBumpAndSendUpdate, 0},
      {"0 after wrap is newer than 0xFFFE", 0xFFFE, kMe, 0, "fd00:1::/64",
       XrouteSeqnoAnswer::kBumpAndSendUpdate, 0xFFFF},
      {"half a circle away is not newer", 0, kMe, 0x8000, "fd00:1::/64",
       XrouteSeqnoAnswer::kSendUpdate, 0},
      {"another router-id only sends an update", 10, kOther, 50, "fd00:1::/64",
       XrouteSeqnoAnswer::kSendUpdate, 10},
      {"a prefix we do not originate is not ours", 10, kMe, 50, "fd00:2::/64",
       XrouteSeqnoAnswer::kNotOurs, 10},
  };
  for (const Case& c : cases) {
    XrouteTable table(kMe, Seqno(c.ours));
    (void)table.Add(Dest("fd00:1::/64"));
    EXPECT_EQ(table.OnSeqnoRequest(Dest(c.prefix), c.asked_router, Seqno(c.asked_seqno)),
              c.expected)
        << c.name;
    EXPECT_EQ(table.seqno(), Seqno(c.seqno_after)) << c.name;
  }
}

TEST(XrouteTableTest, BumpedSeqnoIsUsedByEveryAnnouncement) {
  XrouteTable table(kMe, Seqno(3));
  (void)table.Add(Dest("fd00:1::/64"));
  (void)table.Add(Dest("10.0.0.0/24"), Metric(5));
  ASSERT_EQ(table.OnSeqnoRequest(Dest("10.0.0.0/24"), kMe, Seqno(4)),
            XrouteSeqnoAnswer::kBumpAndSendUpdate);
  const auto all = table.Announcements();
  ASSERT_EQ(all.size(), 2u);
  for (const auto& out : all) EXPECT_EQ(out.seqno, Seqno(4));
  EXPECT_EQ(table.Announcement(Dest("10.0.0.0/24"))->metric, Metric(5));
  EXPECT_FALSE(table.Announcement(Dest("10.9.0.0/24")).has_value());
}

TEST(XrouteTableTest, RepeatedRequestForTheSameSeqnoBumpsOnce) {
  XrouteTable table(kMe, Seqno(10));
  (void)table.Add(Dest("fd00:1::/64"));
  EXPECT_EQ(table.OnSeqnoRequest(Dest("fd00:1::/64"), kMe, Seqno(11)),
            XrouteSeqnoAnswer::kBumpAndSendUpdate);
  EXPECT_EQ(table.OnSeqnoRequest(Dest("fd00:1::/64"), kMe, Seqno(11)),
            XrouteSeqnoAnswer::kSendUpdate);
  EXPECT_EQ(table.seqno(), Seqno(11));
}

}  // namespace
}  // namespace plexus::babel
