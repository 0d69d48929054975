#include "mesh/link_control.h"

#include <gtest/gtest.h>

#include <deque>

#include "identity/test_util.h"

namespace plexus::mesh {
namespace {

using identity::CertificateRejection;
using identity::test::kNow;
using identity::test::P;
using identity::test::WireGuardKey;

const Timestamp kT0 = Timestamp::FromNanos(1'000'000'000);

crypto::PublicKey NodeKey(size_t i) {
  return WireGuardKey(static_cast<uint8_t>(0x10 + i));
}

class LinkControlTest : public ::testing::Test {
 protected:
  identity::Certificate IssueNode(size_t i, const identity::CertificateAuthority& ca) {
    identity::NodeCertificateRequest request = identity::test::NodeRequest(node_key_);
    request.node_name = fmt::format("node{}", i);
    request.prefixes = {P(fmt::format("fd12:3456:789a:{}::/64", i + 1))};
    request.wireguard_key = NodeKey(i);
    return identity::test::Issue(ca, request, random_);
  }
  LinkControlParams Params(size_t i, const identity::CertificateAuthority* ca = nullptr) {
    identity::Certificate cert = IssueNode(i, ca ? *ca : ca_);
    serials_.push_back(cert.SerialHex());
    return LinkControlParams{.ca = ca_.certificate().Clone(),
                             .own_certificate_der = *cert.ToDer(),
                             .static_leaves = {WireGuardKey(0x99)}};
  }
  // Nodes in a line 0 - 1 - ... - n-1; node i reaches node j on link j.
  void MakeLine(size_t n, std::optional<size_t> foreign = std::nullopt) {
    identity::CertificateAuthority other = identity::test::NewCa(random_, "othernet");
    for (size_t i = 0; i < n; ++i) nodes_.emplace_back(Params(i, foreign == i ? &other : nullptr));
    for (size_t i = 0; i + 1 < n; ++i) {
      nodes_[i].AddLink(static_cast<uint32_t>(i + 1), NodeKey(i + 1), kT0);
      nodes_[i + 1].AddLink(static_cast<uint32_t>(i), NodeKey(i), kT0);
    }
  }
  // Carries payloads until every node is quiet; collects each node's events.
  void Run(Timestamp now = kT0) {
    for (bool busy = true; busy;) {
      busy = false;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        LinkControlOutput out = nodes_[i].TakeOutput();
        Keep(i, out);
        for (const LinkPayload& p : out.payloads) {
          busy = true;
          EXPECT_LE(p.payload.size(), kMaxPayloadSize);
          std::optional<LinkControlDrop> drop =
              nodes_[p.link].Receive(static_cast<uint32_t>(i), p.payload, now, Unix(now));
          EXPECT_FALSE(drop) << LinkControlDropName(*drop);
        }
      }
    }
  }
  static int64_t Unix(Timestamp t) {
    return kNow + std::chrono::duration_cast<std::chrono::seconds>(t - kT0).count();
  }
  void Keep(size_t i, LinkControlOutput& out) {
    events_.resize(nodes_.size());
    for (AuthorisationEvent& e : out.authorisation) events_[i].push_back(std::move(e));
  }
  identity::SignedDocument Crl(uint64_t version, const std::vector<std::string>& serials) {
    Result<identity::RevocationList> list = identity::RevocationList::Create(version, serials);
    EXPECT_TRUE(list.ok());
    Result<identity::SignedDocument> doc = list->Sign(kNow, ca_.key());
    EXPECT_TRUE(doc.ok());
    return *doc;
  }

  testing::FakeRandom random_;
  identity::CertificateAuthority ca_ = identity::test::NewCa(random_);
  identity::IdentityKey node_key_ = identity::test::NewKey();
  std::vector<std::string> serials_;
  std::deque<LinkControl> nodes_;
  std::vector<std::vector<AuthorisationEvent>> events_;
};

TEST_F(LinkControlTest, LineOfFourAuthorisesEveryLink) {
  MakeLine(4);
  Run();
  for (size_t i = 0; i + 1 < 4; ++i) {
    EXPECT_TRUE(nodes_[i].IsAuthorised(static_cast<uint32_t>(i + 1))) << i;
    EXPECT_TRUE(nodes_[i + 1].IsAuthorised(static_cast<uint32_t>(i))) << i;
  }
  EXPECT_EQ(events_[1].size(), 2u);
  EXPECT_EQ(nodes_[1].authorisation().PeerCertificate(2)->SubjectCommonName(), "node2");
}

TEST_F(LinkControlTest, RevokedNodeIsCutByItsNeighbourWhereverTheCrlEnters) {
  MakeLine(4);
  Run();
  events_.assign(4, {});
  ASSERT_TRUE(nodes_[0].OfferDocument(Crl(1, {serials_[3]}), kT0 + 1s, Unix(kT0 + 1s)).ok());
  Run(kT0 + 1s);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(nodes_[i].flood().versions().crl_version, 1u) << i;
  ASSERT_EQ(events_[2].size(), 1u);
  EXPECT_EQ(events_[2][0].link, 3u);
  EXPECT_EQ(events_[2][0].state, LinkState::kRejected);
  EXPECT_EQ(events_[2][0].rejection, CertificateRejection::kRevoked);
  EXPECT_FALSE(nodes_[2].IsAuthorised(3));
  EXPECT_TRUE(nodes_[2].IsAuthorised(1));
  EXPECT_TRUE(events_[0].empty());
  EXPECT_TRUE(events_[1].empty());
}

TEST_F(LinkControlTest, NodeFromAnotherCaIsRefused) {
  MakeLine(3, /*foreign=*/2);
  Run();
  EXPECT_TRUE(nodes_[0].IsAuthorised(1));
  EXPECT_EQ(nodes_[1].authorisation().Rejection(2), CertificateRejection::kWrongCa);
  EXPECT_FALSE(nodes_[1].IsAuthorised(2));
  EXPECT_TRUE(nodes_[2].IsAuthorised(1));  // it trusts our CA; we do not trust its
}

TEST_F(LinkControlTest, StaticLeafGetsNoLinkControl) {
  nodes_.emplace_back(Params(0));
  nodes_[0].AddLink(5, WireGuardKey(0x99), kT0);
  LinkControlOutput out = nodes_[0].TakeOutput();
  EXPECT_TRUE(out.payloads.empty());
  ASSERT_EQ(out.authorisation.size(), 1u);
  EXPECT_EQ(out.authorisation[0].state, LinkState::kStaticLeaf);
  EXPECT_TRUE(nodes_[0].IsAuthorised(5));
  EXPECT_TRUE(nodes_[0].NextDeadline().IsInfinite());
}

TEST_F(LinkControlTest, NewLinkSendsOnePayloadWithCertificateRequestAndVersions) {
  nodes_.emplace_back(Params(0));
  nodes_[0].AddLink(1, NodeKey(1), kT0);
  LinkControlOutput out = nodes_[0].TakeOutput();
  ASSERT_EQ(out.payloads.size(), 1u);
  DecodedPayload d = DecodePayload(out.payloads[0].payload);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d.messages.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<CertificateMessage>(d.messages[0]));
  EXPECT_TRUE(std::holds_alternative<CertificateRequest>(d.messages[1]));
  EXPECT_TRUE(std::holds_alternative<Versions>(d.messages[2]));
}

TEST_F(LinkControlTest, CountsDroppedPayloads) {
  nodes_.emplace_back(Params(0));
  nodes_[0].AddLink(1, NodeKey(1), kT0);
  Bytes bad = {std::byte{0x50}, std::byte{0x4c}, std::byte{9}, std::byte{0}};
  EXPECT_EQ(nodes_[0].Receive(1, bad, kT0, kNow), LinkControlDrop::kUnsupportedVersion);
  EXPECT_EQ(nodes_[0].Receive(1, {}, kT0, kNow), LinkControlDrop::kTooShort);
  Bytes unknown = {std::byte{0x50}, std::byte{0x4c}, std::byte{1}, std::byte{0},
                   std::byte{42},   std::byte{0},    std::byte{0}, std::byte{0}};
  EXPECT_FALSE(nodes_[0].Receive(1, unknown, kT0, kNow));
  const LinkControlCounters& c = nodes_[0].counters();
  EXPECT_EQ(c.payloads_received, 3u);
  EXPECT_EQ(c.drops[static_cast<size_t>(LinkControlDrop::kUnsupportedVersion)], 1u);
  EXPECT_EQ(c.drops[static_cast<size_t>(LinkControlDrop::kTooShort)], 1u);
  EXPECT_EQ(c.skipped_unknown, 1u);
}

TEST_F(LinkControlTest, LostPayloadsAreRecoveredByTimers) {
  MakeLine(2);
  (void)nodes_[0].TakeOutput();  // node 0's first words are lost
  Run();
  EXPECT_FALSE(nodes_[1].IsAuthorised(0));
  Timestamp t = std::min(nodes_[0].NextDeadline(), nodes_[1].NextDeadline());
  EXPECT_EQ(t, kT0 + kCertificateResendInitial);
  for (LinkControl& n : nodes_) n.Tick(t, Unix(t));
  Run(t);
  EXPECT_TRUE(nodes_[0].IsAuthorised(1));
  EXPECT_TRUE(nodes_[1].IsAuthorised(0));
}

TEST_F(LinkControlTest, RenewedOwnCertificateReachesNeighbours) {
  MakeLine(3);
  Run();
  std::string old_serial = nodes_[0].authorisation().PeerCertificate(1)->SerialHex();
  identity::Certificate renewed = IssueNode(1, ca_);
  nodes_[1].SetOwnCertificate(*renewed.ToDer(), kT0 + 1s);
  events_.assign(3, {});
  Run(kT0 + 1s);
  for (uint32_t peer : {0u, 2u}) {
    const identity::Certificate* seen = nodes_[peer].authorisation().PeerCertificate(1);
    ASSERT_NE(seen, nullptr) << peer;
    EXPECT_EQ(seen->SerialHex(), renewed.SerialHex()) << peer;
    EXPECT_NE(seen->SerialHex(), old_serial);
    EXPECT_TRUE(events_[peer].empty()) << peer;  // still authorised: nothing to report
  }
}

TEST_F(LinkControlTest, NetworkConfigFloodsAndIsReported) {
  MakeLine(3);
  Run();
  identity::NetworkConfig config;
  config.network_name = "meshnet";
  config.network_prefix = P("fd12:3456:789a::/48");
  Result<identity::SignedDocument> doc = identity::SignNetworkConfig(config, 4, kNow, ca_.key());
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(nodes_[2].OfferDocument(*doc, kT0, kNow).ok());
  std::vector<FloodEvent> seen;
  for (bool busy = true; busy;) {
    busy = false;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      LinkControlOutput out = nodes_[i].TakeOutput();
      if (i == 0) seen.insert(seen.end(), out.documents.begin(), out.documents.end());
      for (const LinkPayload& p : out.payloads) {
        busy = true;
        EXPECT_FALSE(nodes_[p.link].Receive(static_cast<uint32_t>(i), p.payload, kT0, kNow));
      }
    }
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, DocumentKind::kNetworkConfig);
  EXPECT_EQ(seen[0].version, 4u);
  ASSERT_TRUE(nodes_[0].flood().network_config().has_value());
  EXPECT_EQ(nodes_[0].flood().network_config()->network_name, "meshnet");
  EXPECT_NE(nodes_[0].flood().Held(DocumentKind::kNetworkConfig), nullptr);
}

}  // namespace
}  // namespace plexus::mesh
