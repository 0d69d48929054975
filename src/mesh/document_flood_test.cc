#include "mesh/document_flood.h"

#include <gtest/gtest.h>

#include <deque>

#include "identity/test_util.h"

namespace plexus::mesh {
namespace {

using identity::DocumentRejection;
using identity::SignedDocument;
using identity::test::kNow;
using identity::test::P;

const Timestamp kT0 = Timestamp::FromNanos(1'000'000'000);

size_t Rejected(const DocumentFlood& f, DocumentRejection r) {
  return f.counters().refused[static_cast<size_t>(r)];
}

std::vector<DocumentRequest> Requests(const FloodOutput& out, uint32_t link) {
  std::vector<DocumentRequest> r;
  for (const LinkMessage& m : out.messages) {
    if (const auto* q = std::get_if<DocumentRequest>(&m.message); q && m.link == link) {
      r.push_back(*q);
    }
  }
  return r;
}

std::vector<DocumentFragment> Fragments(const SignedDocument& doc, DocumentKind kind,
                                        uint64_t claimed) {
  std::string text = identity::EncodeSignedDocument(doc);
  return FragmentDocument(kind, claimed, AsBytes(text));
}

class DocumentFloodTest : public ::testing::Test {
 protected:
  SignedDocument Crl(uint64_t version, const std::vector<std::string>& serials = {"1f"},
                     const identity::IdentityKey* key = nullptr) {
    Result<identity::RevocationList> list = identity::RevocationList::Create(version, serials);
    EXPECT_TRUE(list.ok());
    Result<SignedDocument> doc = list->Sign(kNow, key ? *key : ca_.key());
    EXPECT_TRUE(doc.ok());
    return *doc;
  }
  SignedDocument Config(uint64_t version) {
    identity::NetworkConfig config;
    config.network_name = "meshnet";
    config.network_prefix = P("fd12:3456:789a::/48");
    config.grants = {{.node_name = "gw1", .prefix = P("::/0")}};
    Result<SignedDocument> doc = identity::SignNetworkConfig(config, version, kNow, ca_.key());
    EXPECT_TRUE(doc.ok());
    return *doc;
  }
  // Hands `flood` every fragment of `doc` on `link`.
  void Deliver(DocumentFlood& flood, uint32_t link, const SignedDocument& doc,
               DocumentKind kind = DocumentKind::kRevocationList,
               std::optional<uint64_t> claimed = std::nullopt) {
    for (const DocumentFragment& f : Fragments(doc, kind, claimed.value_or(doc.version))) {
      flood.Receive(link, f, kT0);
    }
  }

  testing::FakeRandom random_;
  identity::CertificateAuthority ca_ = identity::test::NewCa(random_);
  DocumentFlood flood_{ca_.key().public_key()};
};

TEST_F(DocumentFloodTest, NewLinkGetsVersions) {
  ASSERT_TRUE(flood_.Offer(Crl(4), kT0).ok());
  ASSERT_TRUE(flood_.Offer(Config(9), kT0).ok());
  (void)flood_.TakeOutput();
  flood_.AddLink(1, kT0);
  FloodOutput out = flood_.TakeOutput();
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(std::get<Versions>(out.messages[0].message),
            (Versions{.crl_version = 4, .network_config_version = 9}));
}

TEST_F(DocumentFloodTest, OfferVerifiesAndReportsEvents) {
  EXPECT_TRUE(flood_.Offer(Crl(2), kT0).ok());
  EXPECT_EQ(flood_.Offer(Crl(1), kT0).rejection, DocumentRejection::kOlderVersion);
  EXPECT_EQ(flood_.Offer(Crl(2), kT0).rejection, DocumentRejection::kSameVersion);
  identity::IdentityKey other = identity::test::NewKey();
  EXPECT_EQ(flood_.Offer(Crl(3, {"1f"}, &other), kT0).rejection, DocumentRejection::kWrongSigner);
  FloodOutput out = flood_.TakeOutput();
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].version, 2u);
  EXPECT_TRUE(flood_.revocation_list().IsRevoked("1f"));
  ASSERT_NE(flood_.Held(DocumentKind::kRevocationList), nullptr);
  EXPECT_EQ(flood_.Held(DocumentKind::kNetworkConfig), nullptr);
}

TEST_F(DocumentFloodTest, AsksANeighbourAnnouncingNewerOnceWhilePending) {
  flood_.AddLink(1, kT0);
  flood_.AddLink(2, kT0);
  (void)flood_.TakeOutput();
  flood_.Receive(1, Versions{.crl_version = 3}, kT0);
  flood_.Receive(2, Versions{.crl_version = 3}, kT0);
  flood_.Receive(1, Versions{.crl_version = 3}, kT0 + 1s);
  FloodOutput out = flood_.TakeOutput();
  ASSERT_EQ(Requests(out, 1).size(), 1u);
  EXPECT_EQ(Requests(out, 1)[0], (DocumentRequest{DocumentKind::kRevocationList, 3}));
  EXPECT_TRUE(Requests(out, 2).empty());
  EXPECT_EQ(flood_.counters().requests_sent, 1u);
  // No answer: asked again after the timeout, then with the timeout doubled.
  EXPECT_EQ(flood_.NextDeadline(), kT0 + kRequestTimeoutInitial);
  flood_.Tick(kT0 + kRequestTimeoutInitial);
  EXPECT_EQ(Requests(flood_.TakeOutput(), 1).size(), 1u);
  EXPECT_EQ(flood_.NextDeadline(), kT0 + 3 * kRequestTimeoutInitial);
  Deliver(flood_, 1, Crl(3));
  out = flood_.TakeOutput();
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(flood_.versions().crl_version, 3u);
  EXPECT_EQ(flood_.NextDeadline(), kT0 + kVersionsInterval);
}

TEST_F(DocumentFloodTest, AnnouncesAcceptedVersionToOtherLinksOnly) {
  for (uint32_t link : {1u, 2u, 3u}) flood_.AddLink(link, kT0);
  flood_.Receive(2, Versions{.crl_version = 5}, kT0);
  (void)flood_.TakeOutput();
  Deliver(flood_, 2, Crl(5));
  FloodOutput out = flood_.TakeOutput();
  std::vector<uint32_t> announced;
  for (const LinkMessage& m : out.messages) {
    if (const auto* v = std::get_if<Versions>(&m.message)) {
      EXPECT_EQ(v->crl_version, 5u);
      announced.push_back(m.link);
    }
  }
  EXPECT_EQ(announced, (std::vector<uint32_t>{1, 3}));
}

TEST_F(DocumentFloodTest, RefusesTamperedDocumentAndAsksAnotherNeighbour) {
  flood_.AddLink(1, kT0);
  flood_.AddLink(2, kT0);
  flood_.Receive(1, Versions{.crl_version = 2}, kT0);
  flood_.Receive(2, Versions{.crl_version = 2}, kT0);
  (void)flood_.TakeOutput();
  SignedDocument tampered = Crl(2, {"1f"});
  tampered.payload = Crl(2, {"2f"}).payload;
  Deliver(flood_, 1, tampered);
  EXPECT_EQ(Rejected(flood_, DocumentRejection::kBadSignature), 1u);
  EXPECT_EQ(flood_.versions().crl_version, 0u);
  FloodOutput out = flood_.TakeOutput();
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(Requests(out, 2).size(), 1u);  // at once, not after the timeout
  Deliver(flood_, 2, Crl(2));
  EXPECT_EQ(flood_.versions().crl_version, 2u);
}

TEST_F(DocumentFloodTest, RefusesWrongSignerWrongKindAndMismatchedVersion) {
  flood_.AddLink(1, kT0);
  identity::IdentityKey other = identity::test::NewKey();
  Deliver(flood_, 1, Crl(2, {"1f"}, &other));
  EXPECT_EQ(Rejected(flood_, DocumentRejection::kWrongSigner), 1u);
  Deliver(flood_, 1, Config(2), DocumentKind::kRevocationList);
  EXPECT_EQ(Rejected(flood_, DocumentRejection::kWrongKind), 1u);
  Deliver(flood_, 1, Crl(2), DocumentKind::kRevocationList, 7);
  EXPECT_EQ(flood_.counters().version_mismatch, 1u);
  std::vector<DocumentFragment> junk =
      FragmentDocument(DocumentKind::kRevocationList, 3, AsBytes("{\"not\":\"a document\"}"));
  flood_.Receive(1, junk[0], kT0);
  EXPECT_EQ(flood_.counters().undecodable, 1u);
  EXPECT_EQ(flood_.versions().crl_version, 0u);
  EXPECT_TRUE(flood_.TakeOutput().events.empty());
}

TEST_F(DocumentFloodTest, IgnoresFragmentsOfVersionsNotNewer) {
  ASSERT_TRUE(flood_.Offer(Crl(3), kT0).ok());
  flood_.AddLink(1, kT0);
  (void)flood_.TakeOutput();
  Deliver(flood_, 1, Crl(2));
  Deliver(flood_, 1, Crl(3));
  EXPECT_EQ(flood_.counters().stale_fragments, 2u);
  EXPECT_EQ(flood_.versions().crl_version, 3u);
  EXPECT_TRUE(flood_.TakeOutput().events.empty());
}

TEST_F(DocumentFloodTest, AnswersRequestsWithFragmentsRateLimited) {
  std::vector<std::string> serials;
  serials.reserve(200);
  for (int i = 0; i < 200; ++i) serials.push_back(fmt::format("{:x}", 0x10000000 + i * 977));
  ASSERT_TRUE(flood_.Offer(Crl(4, serials), kT0).ok());
  flood_.AddLink(1, kT0);
  (void)flood_.TakeOutput();
  flood_.Receive(1, DocumentRequest{DocumentKind::kRevocationList, 4}, kT0);
  FloodOutput out = flood_.TakeOutput();
  ASSERT_GT(out.messages.size(), 2u);  // a CRL of 200 serials does not fit in one payload
  DocumentFlood other(ca_.key().public_key());
  other.AddLink(9, kT0);
  for (const LinkMessage& m : out.messages) {
    for (const Bytes& p : EncodePayloads({m.message}).payloads) {
      EXPECT_LE(p.size(), kMaxPayloadSize);
      DecodedPayload d = DecodePayload(p);
      ASSERT_TRUE(d.ok());
      other.Receive(9, d.messages[0], kT0);
    }
  }
  EXPECT_EQ(other.versions().crl_version, 4u);
  EXPECT_EQ(other.revocation_list().serials().size(), 200u);

  flood_.Receive(1, DocumentRequest{DocumentKind::kRevocationList, 4}, kT0 + 500ms);
  EXPECT_EQ(flood_.counters().requests_rate_limited, 1u);
  flood_.Receive(1, DocumentRequest{DocumentKind::kRevocationList, 5}, kT0 + 2s);
  flood_.Receive(1, DocumentRequest{DocumentKind::kNetworkConfig, 1}, kT0 + 2s);
  EXPECT_EQ(flood_.counters().requests_unanswerable, 2u);
  EXPECT_TRUE(flood_.TakeOutput().messages.empty());
}

TEST_F(DocumentFloodTest, AbandonsReassemblyThatStalls) {
  flood_.AddLink(1, kT0);
  std::vector<std::string> serials(150, "abcdef0123456789");
  for (int i = 0; i < 150; ++i) serials[i] += fmt::format("{:04x}", i);
  std::vector<DocumentFragment> frags =
      Fragments(Crl(2, serials), DocumentKind::kRevocationList, 2);
  ASSERT_GT(frags.size(), 1u);
  flood_.Receive(1, frags[0], kT0);
  EXPECT_EQ(flood_.NextDeadline(), kT0 + kReassemblyTimeout);
  flood_.Tick(kT0 + kReassemblyTimeout);
  EXPECT_EQ(flood_.counters().reassembly_timeouts, 1u);
  for (size_t i = 1; i < frags.size(); ++i) flood_.Receive(1, frags[i], kT0 + kReassemblyTimeout);
  EXPECT_EQ(flood_.versions().crl_version, 0u);
}

TEST_F(DocumentFloodTest, ReannouncesPeriodically) {
  flood_.AddLink(1, kT0);
  (void)flood_.TakeOutput();
  flood_.Tick(kT0 + kVersionsInterval - 1ns);
  EXPECT_TRUE(flood_.TakeOutput().messages.empty());
  flood_.Tick(kT0 + kVersionsInterval);
  FloodOutput out = flood_.TakeOutput();
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Versions>(out.messages[0].message));
  EXPECT_EQ(flood_.NextDeadline(), kT0 + 2 * kVersionsInterval);
}

TEST_F(DocumentFloodTest, RemovingThePendingLinkAsksAnother) {
  flood_.AddLink(1, kT0);
  flood_.AddLink(2, kT0);
  flood_.Receive(1, Versions{.network_config_version = 2}, kT0);
  flood_.Receive(2, Versions{.network_config_version = 2}, kT0);
  (void)flood_.TakeOutput();
  flood_.RemoveLink(1, kT0);
  EXPECT_EQ(Requests(flood_.TakeOutput(), 2).size(), 1u);
  flood_.Receive(1, Versions{.crl_version = 1}, kT0);
  EXPECT_EQ(flood_.counters().unknown_link, 1u);
}

// Nodes in a line, 0 - 1 - 2 - 3; node i reaches node j on link j. Every
// message goes through EncodePayloads / DecodePayload.
class Line {
 public:
  Line(size_t n, const identity::IdentityPublicKey& ca_key) {
    for (size_t i = 0; i < n; ++i) nodes_.emplace_back(ca_key);
    for (size_t i = 0; i + 1 < n; ++i) {
      nodes_[i].AddLink(static_cast<uint32_t>(i + 1), kT0);
      nodes_[i + 1].AddLink(static_cast<uint32_t>(i), kT0);
    }
  }
  DocumentFlood& operator[](size_t i) { return nodes_[i]; }
  void Tick(Timestamp now) {
    for (DocumentFlood& n : nodes_) n.Tick(now);
  }
  // Delivers until nobody has anything to say; returns the payloads carried.
  size_t Run(Timestamp now) {
    size_t carried = 0;
    for (bool busy = true; busy;) {
      busy = false;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        FloodOutput out = nodes_[i].TakeOutput();
        for (LinkMessage& m : out.messages) {
          busy = true;
          carried += Carry(static_cast<uint32_t>(i), m, now);
        }
      }
    }
    return carried;
  }

 private:
  size_t Carry(uint32_t from, const LinkMessage& m, Timestamp now) {
    EncodedPayloads e = EncodePayloads({m.message});
    for (const Bytes& p : e.payloads) {
      DecodedPayload d = DecodePayload(p);
      EXPECT_TRUE(d.ok());
      for (const Message& msg : d.messages) nodes_[m.link].Receive(from, msg, now);
    }
    return e.payloads.size();
  }

  std::deque<DocumentFlood> nodes_;
};

TEST_F(DocumentFloodTest, LineOfFourConvergesToTheNewestCrl) {
  Line line(4, ca_.key().public_key());
  line.Run(kT0);
  ASSERT_TRUE(line[0].Offer(Crl(1), kT0).ok());
  line.Run(kT0);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(line[i].versions().crl_version, 1u) << i;
  // Two newer lists start at both ends at once; the newest wins everywhere.
  ASSERT_TRUE(line[0].Offer(Crl(2, {"1f", "2f"}), kT0).ok());
  ASSERT_TRUE(line[3].Offer(Crl(3, {"1f", "2f", "3f"}), kT0).ok());
  line.Run(kT0);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(line[i].versions().crl_version, 3u) << i;
    EXPECT_TRUE(line[i].revocation_list().IsRevoked("3f")) << i;
    EXPECT_EQ(line[i].counters().refused, FloodCounters{}.refused) << i;
  }
  // Quiet afterwards: periodic Versions carry nothing new.
  std::vector<uint64_t> requests;
  for (size_t i = 0; i < 4; ++i) requests.push_back(line[i].counters().requests_sent);
  line.Tick(kT0 + kVersionsInterval);
  EXPECT_EQ(line.Run(kT0 + kVersionsInterval), 6u);  // one Versions each way per link
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(line[i].counters().requests_sent, requests[i]) << i;
}

TEST_F(DocumentFloodTest, LineOfFourCarriesNetworkConfig) {
  Line line(4, ca_.key().public_key());
  ASSERT_TRUE(line[2].Offer(Config(5), kT0).ok());
  line.Run(kT0);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(line[i].network_config().has_value()) << i;
    EXPECT_EQ(identity::GrantedPrefixes(*line[i].network_config(), "gw1"),
              (std::vector<Prefix>{P("::/0")}));
  }
}

}  // namespace
}  // namespace plexus::mesh
