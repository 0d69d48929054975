#include "mesh/link_authorisation.h"

#include <gtest/gtest.h>

#include "identity/test_util.h"

namespace plexus::mesh {
namespace {

using identity::CertificateRejection;
using identity::test::kDay;
using identity::test::kNow;
using identity::test::P;
using identity::test::WireGuardKey;

const Timestamp kT0 = Timestamp::FromNanos(1'000'000'000);
constexpr uint32_t kLink = 7;

Bytes Der(const identity::Certificate& cert) {
  Result<Bytes> der = cert.ToDer();
  EXPECT_TRUE(der.ok());
  return der ? *der : Bytes();
}

int64_t Unix(Timestamp t) {
  return kNow + std::chrono::duration_cast<std::chrono::seconds>(t - kT0).count();
}

size_t CountType(const std::vector<LinkMessage>& messages, size_t index) {
  size_t n = 0;
  for (const LinkMessage& m : messages) n += m.message.index() == index ? 1 : 0;
  return n;
}
constexpr size_t kCert = 0, kRequest = 1;

class LinkAuthorisationTest : public ::testing::Test {
 protected:
  identity::Certificate IssuePeer(const identity::CertificateAuthority& ca, uint8_t wg_fill = 0x42,
                                  int64_t now = kNow, int64_t lifetime = 30 * kDay) {
    identity::NodeCertificateRequest request = identity::test::NodeRequest(peer_key_);
    request.wireguard_key = WireGuardKey(wg_fill);
    request.lifetime_seconds = lifetime;
    return identity::test::Issue(ca, request, random_, now);
  }
  LinkAuthorisation Make(std::vector<crypto::PublicKey> leaves = {}) {
    identity::NodeCertificateRequest request = identity::test::NodeRequest(own_key_);
    request.node_name = "self";
    request.prefixes = {P("fd12:3456:789a:2::/64")};
    request.wireguard_key = WireGuardKey(0x01);
    own_der_ = Der(identity::test::Issue(ca_, request, random_));
    return LinkAuthorisation(ca_.certificate().Clone(), own_der_, std::move(leaves));
  }
  // Adds kLink with the peer's handshake key and hands it `cert`.
  AuthorisationOutput Present(const identity::Certificate& cert, uint8_t handshake_fill = 0x42) {
    auth_.AddLink(kLink, WireGuardKey(handshake_fill), kT0);
    (void)auth_.TakeOutput();
    auth_.Receive(kLink, CertificateMessage{Der(cert)}, kT0, kNow);
    return auth_.TakeOutput();
  }
  void ExpectRejected(const AuthorisationOutput& out, CertificateRejection why) {
    ASSERT_EQ(out.events.size(), 1u);
    EXPECT_EQ(out.events[0].state, LinkState::kRejected);
    EXPECT_EQ(out.events[0].rejection, why)
        << identity::CertificateRejectionName(out.events[0].rejection) << ": "
        << out.events[0].message;
    EXPECT_EQ(auth_.State(kLink), LinkState::kRejected);
    EXPECT_EQ(auth_.Rejection(kLink), why);
    EXPECT_FALSE(auth_.IsAuthorised(kLink));
    EXPECT_EQ(auth_.PeerCertificate(kLink), nullptr);
  }

  testing::FakeRandom random_;
  identity::CertificateAuthority ca_ =
      identity::test::NewCa(random_, "meshnet", {P("fd12:3456:789a::/48"), P("10.42.0.0/16")});
  identity::IdentityKey own_key_ = identity::test::NewKey();
  identity::IdentityKey peer_key_ = identity::test::NewKey();
  Bytes own_der_;
  LinkAuthorisation auth_ = Make();
};

TEST_F(LinkAuthorisationTest, NewLinkSendsCertificateAndRequest) {
  auth_.AddLink(kLink, WireGuardKey(0x42), kT0);
  AuthorisationOutput out = auth_.TakeOutput();
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[0].link, kLink);
  EXPECT_EQ(std::get<CertificateMessage>(out.messages[0].message).der, own_der_);
  EXPECT_TRUE(std::holds_alternative<CertificateRequest>(out.messages[1].message));
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(auth_.State(kLink), LinkState::kAwaitingCertificate);
  EXPECT_FALSE(auth_.IsAuthorised(kLink));
  EXPECT_LE(own_der_.size(), kMaxCertificateSize);
}

TEST_F(LinkAuthorisationTest, CertificateWithManyBlocksFitsOneMessage) {
  identity::NodeCertificateRequest request = identity::test::NodeRequest(peer_key_);
  request.node_name = "a-rather-long-node-name-for-a-gateway-in-a-datacentre";
  request.prefixes.clear();
  for (int i = 0; i < 24; ++i) {
    request.prefixes.push_back(P(fmt::format("fd12:3456:789a:{:x}::/64", 2 * i + 1)));
  }
  for (int i = 0; i < 8; ++i) request.prefixes.push_back(P(fmt::format("10.42.{}.0/24", 2 * i)));
  Bytes der = Der(identity::test::Issue(ca_, request, random_));
  EXPECT_LE(der.size(), kMaxCertificateSize) << der.size();
  EXPECT_LE(own_der_.size(), 700u);
}

TEST_F(LinkAuthorisationTest, AuthorisesGoodCertificate) {
  identity::Certificate peer = IssuePeer(ca_);
  AuthorisationOutput out = Present(peer);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].state, LinkState::kAuthorised);
  EXPECT_EQ(out.events[0].key, WireGuardKey(0x42));
  EXPECT_TRUE(auth_.IsAuthorised(kLink));
  ASSERT_NE(auth_.PeerCertificate(kLink), nullptr);
  EXPECT_EQ(auth_.PeerCertificate(kLink)->SerialHex(), peer.SerialHex());
}

TEST_F(LinkAuthorisationTest, RepeatedCertificateIsNotVerifiedAgain) {
  identity::Certificate peer = IssuePeer(ca_);
  Present(peer);
  auth_.Receive(kLink, CertificateMessage{Der(peer)}, kT0 + 1s, kNow + 1);
  EXPECT_EQ(auth_.counters().repeated_certificates, 1u);
  EXPECT_TRUE(auth_.IsAuthorised(kLink));
  // Still re-checked when the CRL changes.
  Result<identity::RevocationList> crl = identity::RevocationList::Create(2, {peer.SerialHex()});
  ASSERT_TRUE(crl.ok());
  auth_.UpdateRevocationList(*crl, kT0 + 2s, kNow + 2);
  ExpectRejected(auth_.TakeOutput(), CertificateRejection::kRevoked);
  auth_.Receive(kLink, CertificateMessage{Der(peer)}, kT0 + 3s, kNow + 3);
  EXPECT_EQ(auth_.counters().repeated_certificates, 1u);
  EXPECT_EQ(auth_.Rejection(kLink), CertificateRejection::kRevoked);
  EXPECT_TRUE(auth_.TakeOutput().events.empty());  // the same refusal is not reported twice
  EXPECT_EQ(auth_.counters().rejections, 1u);
}

TEST_F(LinkAuthorisationTest, RejectsTamperedCertificate) {
  Bytes der = Der(IssuePeer(ca_));
  der.back() ^= std::byte{1};
  auth_.AddLink(kLink, WireGuardKey(0x42), kT0);
  auth_.Receive(kLink, CertificateMessage{der}, kT0, kNow);
  ExpectRejected(auth_.TakeOutput(), CertificateRejection::kBadSignature);
}

TEST_F(LinkAuthorisationTest, RejectsExpiredCertificate) {
  ExpectRejected(Present(IssuePeer(ca_, 0x42, kNow - 7200, 3600)), CertificateRejection::kExpired);
}

TEST_F(LinkAuthorisationTest, RejectsCertificateFromAnotherCa) {
  identity::CertificateAuthority other = identity::test::NewCa(random_, "othernet");
  ExpectRejected(Present(IssuePeer(other)), CertificateRejection::kWrongCa);
}

TEST_F(LinkAuthorisationTest, RejectsRevokedCertificate) {
  identity::Certificate peer = IssuePeer(ca_);
  Result<identity::RevocationList> crl = identity::RevocationList::Create(2, {peer.SerialHex()});
  ASSERT_TRUE(crl.ok());
  auth_.UpdateRevocationList(*crl, kT0, kNow);
  ExpectRejected(Present(peer), CertificateRejection::kRevoked);
}

TEST_F(LinkAuthorisationTest, RejectsWireGuardKeyMismatch) {
  ExpectRejected(Present(IssuePeer(ca_, 0x42), 0x43), CertificateRejection::kWireGuardKeyMismatch);
}

TEST_F(LinkAuthorisationTest, CrlUpdateCutsAuthorisedPeer) {
  identity::Certificate peer = IssuePeer(ca_);
  Present(peer);
  ASSERT_TRUE(auth_.IsAuthorised(kLink));
  Result<identity::RevocationList> other = identity::RevocationList::Create(2, {"abcdef"});
  ASSERT_TRUE(other.ok());
  auth_.UpdateRevocationList(*other, kT0, kNow);
  EXPECT_TRUE(auth_.TakeOutput().events.empty());
  EXPECT_TRUE(auth_.IsAuthorised(kLink));
  Result<identity::RevocationList> crl =
      identity::RevocationList::Create(3, {"abcdef", peer.SerialHex()});
  ASSERT_TRUE(crl.ok());
  auth_.UpdateRevocationList(*crl, kT0 + 5s, kNow + 5);
  ExpectRejected(auth_.TakeOutput(), CertificateRejection::kRevoked);
  EXPECT_EQ(auth_.counters().rejections, 1u);
}

TEST_F(LinkAuthorisationTest, PeerCertificateExpiringCutsTheLink) {
  identity::Certificate peer = IssuePeer(ca_);
  Present(peer);
  Timestamp end = kT0 + std::chrono::seconds(*peer.NotAfterUnix() - kNow);
  EXPECT_LE(auth_.NextDeadline(), end);
  auth_.Tick(end - 1s, Unix(end - 1s));
  EXPECT_TRUE(auth_.IsAuthorised(kLink));
  (void)auth_.TakeOutput();
  auth_.Tick(end, Unix(end));
  ExpectRejected(auth_.TakeOutput(), CertificateRejection::kExpired);
  EXPECT_TRUE(auth_.NextDeadline().IsInfinite());
}

TEST_F(LinkAuthorisationTest, AsksForRenewedCertificateBeforeExpiry) {
  identity::Certificate peer = IssuePeer(ca_);
  Present(peer);
  Timestamp end = kT0 + std::chrono::seconds(*peer.NotAfterUnix() - kNow);
  EXPECT_EQ(auth_.NextDeadline(), end - kRenewalWindow);
  auth_.Tick(end - kRenewalWindow, Unix(end - kRenewalWindow));
  AuthorisationOutput out = auth_.TakeOutput();
  EXPECT_EQ(CountType(out.messages, kRequest), 1u);
  EXPECT_EQ(auth_.NextDeadline(), end - kRenewalWindow + kRenewalRequestInterval);
  // The peer renews: a later certificate keeps the link authorised, silently.
  Timestamp later = end - 30min;
  identity::Certificate renewed = IssuePeer(ca_, 0x42, Unix(later));
  auth_.Receive(kLink, CertificateMessage{Der(renewed)}, later, Unix(later));
  EXPECT_TRUE(auth_.TakeOutput().events.empty());
  EXPECT_EQ(auth_.PeerCertificate(kLink)->SerialHex(), renewed.SerialHex());
  auth_.Tick(end, Unix(end));
  EXPECT_TRUE(auth_.IsAuthorised(kLink));
}

TEST_F(LinkAuthorisationTest, ResendsWithBackoffUntilAuthorised) {
  auth_.AddLink(kLink, WireGuardKey(0x42), kT0);
  (void)auth_.TakeOutput();
  Timestamp t = kT0;
  Duration expected = kCertificateResendInitial;
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(auth_.NextDeadline(), t + expected) << i;
    t = auth_.NextDeadline();
    auth_.Tick(t, Unix(t));
    AuthorisationOutput out = auth_.TakeOutput();
    EXPECT_EQ(CountType(out.messages, kCert), 1u);
    EXPECT_EQ(CountType(out.messages, kRequest), 1u);
    expected = std::min(expected * 2, kCertificateResendMax);
  }
  EXPECT_EQ(expected, kCertificateResendMax);
  auth_.Receive(kLink, CertificateMessage{Der(IssuePeer(ca_))}, t, Unix(t));
  EXPECT_TRUE(auth_.IsAuthorised(kLink));
  EXPECT_GT(auth_.NextDeadline(), t + 20 * 24h);
}

TEST_F(LinkAuthorisationTest, AnswersRequestsAtMostOncePerInterval) {
  auth_.AddLink(kLink, WireGuardKey(0x42), kT0);
  (void)auth_.TakeOutput();
  auth_.Receive(kLink, CertificateRequest{}, kT0 + 500ms, kNow);
  EXPECT_TRUE(auth_.TakeOutput().messages.empty());
  EXPECT_EQ(auth_.counters().requests_rate_limited, 1u);
  auth_.Receive(kLink, CertificateRequest{}, kT0 + kMinCertificateInterval, kNow + 1);
  AuthorisationOutput out = auth_.TakeOutput();
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(std::get<CertificateMessage>(out.messages[0].message).der, own_der_);
}

TEST_F(LinkAuthorisationTest, RejectedPeerWithValidCertificateIsAuthorised) {
  ExpectRejected(Present(IssuePeer(ca_, 0x42, kNow - 7200, 3600)), CertificateRejection::kExpired);
  EXPECT_TRUE(auth_.NextDeadline().IsInfinite());
  auth_.Receive(kLink, CertificateMessage{Der(IssuePeer(ca_))}, kT0 + 1s, kNow + 1);
  AuthorisationOutput out = auth_.TakeOutput();
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].state, LinkState::kAuthorised);
}

TEST_F(LinkAuthorisationTest, AuthorisedPeerPresentingBadCertificateIsRejected) {
  Present(IssuePeer(ca_));
  identity::CertificateAuthority other = identity::test::NewCa(random_, "othernet");
  auth_.Receive(kLink, CertificateMessage{Der(IssuePeer(other))}, kT0, kNow);
  ExpectRejected(auth_.TakeOutput(), CertificateRejection::kWrongCa);
}

TEST_F(LinkAuthorisationTest, MalformedCertificateChangesNothing) {
  auth_.AddLink(kLink, WireGuardKey(0x42), kT0);
  auth_.Receive(kLink, CertificateMessage{Bytes(100, std::byte{0x30})}, kT0, kNow);
  EXPECT_EQ(auth_.counters().malformed_certificates, 1u);
  EXPECT_EQ(auth_.State(kLink), LinkState::kAwaitingCertificate);
  EXPECT_TRUE(auth_.TakeOutput().events.empty());
}

TEST_F(LinkAuthorisationTest, StaticLeafIsAuthorisedWithoutLinkControl) {
  auth_ = Make({WireGuardKey(0x99)});
  auth_.AddLink(kLink, WireGuardKey(0x99), kT0);
  AuthorisationOutput out = auth_.TakeOutput();
  EXPECT_TRUE(out.messages.empty());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].state, LinkState::kStaticLeaf);
  EXPECT_TRUE(auth_.IsAuthorised(kLink));
  auth_.Receive(kLink, CertificateRequest{}, kT0, kNow);
  auth_.Receive(kLink, CertificateMessage{Der(IssuePeer(ca_))}, kT0, kNow);
  EXPECT_EQ(auth_.counters().ignored_static_leaf, 2u);
  EXPECT_TRUE(auth_.TakeOutput().messages.empty());
  EXPECT_TRUE(auth_.NextDeadline().IsInfinite());
  Result<identity::RevocationList> crl = identity::RevocationList::Create(2, {"1"});
  ASSERT_TRUE(crl.ok());
  auth_.UpdateRevocationList(*crl, kT0, kNow);
  EXPECT_TRUE(auth_.IsAuthorised(kLink));
}

TEST_F(LinkAuthorisationTest, MessagesForUnknownLinksAreCounted) {
  auth_.Receive(3, CertificateRequest{}, kT0, kNow);
  auth_.Receive(3, Versions{}, kT0, kNow);  // not ours: not counted
  EXPECT_EQ(auth_.counters().unknown_link, 1u);
  auth_.AddLink(kLink, WireGuardKey(0x42), kT0);
  auth_.RemoveLink(kLink);
  EXPECT_FALSE(auth_.State(kLink).has_value());
  EXPECT_TRUE(auth_.NextDeadline().IsInfinite());
}

// Two nodes' cores exchanging encoded payloads authorise each other.
TEST_F(LinkAuthorisationTest, TwoNodesAuthoriseEachOtherOverEncodedPayloads) {
  LinkAuthorisation peer(ca_.certificate().Clone(), Der(IssuePeer(ca_)), {});
  auth_.AddLink(1, WireGuardKey(0x42), kT0);
  peer.AddLink(2, WireGuardKey(0x01), kT0);
  for (int round = 0; round < 3; ++round) {
    for (auto [from, to, to_link] : {std::tuple{&auth_, &peer, 2u}, {&peer, &auth_, 1u}}) {
      std::vector<Message> messages;
      for (LinkMessage& m : from->TakeOutput().messages) messages.push_back(std::move(m.message));
      for (const Bytes& payload : EncodePayloads(messages).payloads) {
        DecodedPayload d = DecodePayload(payload);
        ASSERT_TRUE(d.ok());
        for (const Message& m : d.messages) to->Receive(to_link, m, kT0, kNow);
      }
    }
  }
  EXPECT_TRUE(auth_.IsAuthorised(1));
  EXPECT_TRUE(peer.IsAuthorised(2));
}

}  // namespace
}  // namespace plexus::mesh
