#include "mesh/link_control_messages.h"

#include <gtest/gtest.h>

#include "mesh/document_reassembly.h"

namespace plexus::mesh {
namespace {

Bytes B(std::initializer_list<int> v) {
  Bytes out;
  for (int x : v) out.push_back(static_cast<std::byte>(x));
  return out;
}

Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Bytes kHeader = B({0x50, 0x4c, 0x01, 0x00});

LinkControlDrop DropOf(const Bytes& payload) {
  DecodedPayload d = DecodePayload(payload);
  EXPECT_TRUE(d.dropped);
  return d.drop;
}

TEST(LinkControlMessages, VersionsLayoutIsBigEndian) {
  Bytes p = EncodePayload(Versions{.crl_version = 0x0102030405060708, .network_config_version = 9});
  Bytes expected =
      Concat(kHeader, B({3, 0, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 9}));
  EXPECT_EQ(p, expected);
}

TEST(LinkControlMessages, DocumentRequestLayout) {
  Bytes p = EncodePayload(DocumentRequest{.kind = DocumentKind::kNetworkConfig, .version = 7});
  EXPECT_EQ(p, Concat(kHeader, B({4, 0, 0, 12, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7})));
}

TEST(LinkControlMessages, CertificateRequestIsAnEmptyBody) {
  EXPECT_EQ(EncodePayload(CertificateRequest{}), Concat(kHeader, B({2, 0, 0, 0})));
}

TEST(LinkControlMessages, RoundTripsEveryMessageInOnePayload) {
  std::vector<Message> in = {
      CertificateMessage{B({0x30, 0x82, 0x01})},
      CertificateRequest{},
      Versions{.crl_version = 3, .network_config_version = 4},
      DocumentRequest{.kind = DocumentKind::kRevocationList, .version = 3},
      DocumentFragment{.kind = DocumentKind::kNetworkConfig,
                       .version = 4,
                       .total = 5,
                       .offset = 0,
                       .data = B({1, 2, 3, 4, 5})},
  };
  EncodedPayloads e = EncodePayloads(in);
  ASSERT_EQ(e.payloads.size(), 1u);
  DecodedPayload d = DecodePayload(e.payloads[0]);
  ASSERT_TRUE(d.ok()) << LinkControlDropName(d.drop);
  EXPECT_EQ(d.messages, in);
  EXPECT_EQ(d.skipped_unknown, 0u);
}

TEST(LinkControlMessages, PacksIntoPayloadsThatFit) {
  std::vector<Message> in(3, CertificateMessage{Bytes(kMaxCertificateSize, std::byte{1})});
  in.emplace_back(Versions{});
  EncodedPayloads e = EncodePayloads(in);
  ASSERT_EQ(e.payloads.size(), 4u);
  for (const Bytes& p : e.payloads) {
    EXPECT_LE(p.size(), kMaxPayloadSize);
    EXPECT_TRUE(DecodePayload(p).ok());
  }
  EXPECT_EQ(e.payloads[0].size(), kMaxPayloadSize);
}

TEST(LinkControlMessages, OversizedCertificateIsLeftOut) {
  EncodedPayloads e =
      EncodePayloads({CertificateMessage{Bytes(kMaxCertificateSize + 1, std::byte{1})}});
  EXPECT_TRUE(e.payloads.empty());
  EXPECT_EQ(e.oversized, 1u);
}

TEST(LinkControlMessages, SkipsUnknownTypes) {
  Bytes p = Concat(kHeader, B({9, 0, 0, 2, 0xaa, 0xbb, 2, 0, 0, 0}));
  DecodedPayload d = DecodePayload(p);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.skipped_unknown, 1u);
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<CertificateRequest>(d.messages[0]));
}

TEST(LinkControlMessages, IgnoresReservedBytes) {
  Bytes p = B({0x50, 0x4c, 0x01, 0xff, 2, 0xff, 0, 0});
  EXPECT_TRUE(DecodePayload(p).ok());
}

struct DropCase {
  const char* name;
  Bytes payload;
  LinkControlDrop drop;
};

TEST(LinkControlMessages, NamesEveryMalformedPayload) {
  using D = LinkControlDrop;
  const std::vector<DropCase> cases = {
      {"empty", {}, D::kTooShort},
      {"three bytes", B({0x50, 0x4c, 1}), D::kTooShort},
      {"magic", B({0x50, 0x4d, 1, 0, 2, 0, 0, 0}), D::kBadMagic},
      {"version", B({0x50, 0x4c, 2, 0, 2, 0, 0, 0}), D::kUnsupportedVersion},
      {"too large", Concat(kHeader, Bytes(kMaxPayloadSize, std::byte{0})), D::kTooLarge},
      {"no messages", kHeader, D::kNoMessages},
      {"header cut", Concat(kHeader, B({2, 0, 0})), D::kTruncatedHeader},
      {"body cut", Concat(kHeader, B({1, 0, 0, 5, 1, 2})), D::kTruncatedBody},
      {"empty cert", Concat(kHeader, B({1, 0, 0, 0})), D::kEmptyCertificate},
      {"versions 15", Concat(kHeader, Concat(B({3, 0, 0, 15}), Bytes(15))), D::kBadVersionsSize},
      {"cert request body", Concat(kHeader, B({2, 0, 0, 1, 0})), D::kBadRequestSize},
      {"doc request 11", Concat(kHeader, Concat(B({4, 0, 0, 11}), Bytes(11))), D::kBadRequestSize},
      {"doc request kind", Concat(kHeader, B({4, 0, 0, 12, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})),
       D::kUnknownDocumentKind},
      {"fragment no data", Concat(kHeader, Concat(B({5, 0, 0, 20, 1}), Bytes(19))),
       D::kBadFragmentSize},
      {"fragment kind 0", Concat(kHeader, B({5, 0, 0, 21, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                             0, 0, 1, 0,  0, 0, 1, 0, 0, 0, 0, 9})),
       D::kUnknownDocumentKind},
      {"fragment total 0", Concat(kHeader, B({5, 0, 0, 21, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                                              0, 0, 1, 0,  0, 0, 0, 0, 0, 0, 0, 9})),
       D::kBadFragmentTotal},
      {"fragment total huge", Concat(kHeader, B({5, 0, 0, 21, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                                                 0, 0, 1, 0,  4, 0, 1, 0, 0, 0, 0, 9})),
       D::kBadFragmentTotal},
      {"fragment offset unaligned", Concat(kHeader, B({5, 0, 0, 21, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 1, 0,  0, 9, 0, 0, 0, 0, 1, 9})),
       D::kBadFragmentOffset},
      {"fragment offset past total", Concat(kHeader, B({5, 0, 0, 21, 1, 0, 0, 0, 0, 0, 0,    0, 0,
                                                        0, 0, 1, 0,  0, 0, 1, 0, 0, 4, 0xb4, 9})),
       D::kBadFragmentOffset},
      {"fragment short data", Concat(kHeader, B({5, 0, 0, 21, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                                                 0, 0, 1, 0,  0, 0, 2, 0, 0, 0, 0, 9})),
       D::kBadFragmentLength},
      {"bad after good", Concat(kHeader, B({2, 0, 0, 0, 1, 0, 0, 0})), D::kEmptyCertificate},
  };
  for (const DropCase& c : cases) {
    EXPECT_EQ(DropOf(c.payload), c.drop)
        << c.name << ": got " << LinkControlDropName(DropOf(c.payload));
  }
}

TEST(LinkControlMessages, EveryDropHasAName) {
  for (size_t i = 0; i < kLinkControlDropCount; ++i) {
    EXPECT_NE(LinkControlDropName(static_cast<LinkControlDrop>(i)), "unknown") << i;
  }
}

Bytes Document(size_t size) {
  Bytes d(size);
  for (size_t i = 0; i < size; ++i) d[i] = static_cast<std::byte>(i * 7 + 3);
  return d;
}

TEST(LinkControlMessages, FragmentsEncodeAndDecodeWithinOnePayloadEach) {
  Bytes doc = Document(3000);
  std::vector<DocumentFragment> frags = FragmentDocument(DocumentKind::kRevocationList, 5, doc);
  ASSERT_EQ(frags.size(), 3u);
  EXPECT_EQ(frags[2].data.size(), 3000 - 2 * kFragmentDataSize);
  for (const DocumentFragment& f : frags) {
    Bytes p = EncodePayload(f);
    EXPECT_LE(p.size(), kMaxPayloadSize);
    DecodedPayload d = DecodePayload(p);
    ASSERT_TRUE(d.ok()) << LinkControlDropName(d.drop);
    EXPECT_EQ(std::get<DocumentFragment>(d.messages[0]), f);
  }
}

TEST(LinkControlMessages, FragmentDocumentRefusesEmptyAndOversized) {
  EXPECT_TRUE(FragmentDocument(DocumentKind::kRevocationList, 1, {}).empty());
  EXPECT_TRUE(
      FragmentDocument(DocumentKind::kRevocationList, 1, Document(kMaxDocumentSize + 1)).empty());
  EXPECT_EQ(FragmentDocument(DocumentKind::kRevocationList, 1, Document(kMaxDocumentSize)).size(),
            (kMaxDocumentSize + kFragmentDataSize - 1) / kFragmentDataSize);
}

const Timestamp kT0 = Timestamp::FromNanos(1'000'000'000);

TEST(DocumentReassembly, ReassemblesOutOfOrderWithDuplicates) {
  Bytes doc = Document(5000);
  std::vector<DocumentFragment> frags = FragmentDocument(DocumentKind::kNetworkConfig, 2, doc);
  DocumentReassembly r;
  std::optional<Bytes> out;
  for (size_t i : {3u, 1u, 1u, 0u, 4u}) EXPECT_FALSE(r.Add(frags[i], kT0));
  out = r.Add(frags[2], kT0);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, doc);
  EXPECT_FALSE(r.active());
}

TEST(DocumentReassembly, AnotherVersionRestarts) {
  Bytes doc = Document(3000);
  auto v1 = FragmentDocument(DocumentKind::kNetworkConfig, 1, doc);
  auto v2 = FragmentDocument(DocumentKind::kNetworkConfig, 2, doc);
  DocumentReassembly r;
  EXPECT_FALSE(r.Add(v1[0], kT0));
  EXPECT_FALSE(r.Add(v1[1], kT0));
  EXPECT_FALSE(r.Add(v2[2], kT0));
  EXPECT_EQ(r.version(), 2u);
  EXPECT_FALSE(r.Add(v2[0], kT0));
  std::optional<Bytes> out = r.Add(v2[1], kT0);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, doc);
}

TEST(DocumentReassembly, ExpiresWithoutProgress) {
  auto frags = FragmentDocument(DocumentKind::kRevocationList, 1, Document(2000));
  DocumentReassembly r;
  EXPECT_FALSE(r.Add(frags[0], kT0));
  EXPECT_EQ(r.Deadline(), kT0 + kReassemblyTimeout);
  r.Expire(kT0 + kReassemblyTimeout - 1ns);
  EXPECT_TRUE(r.active());
  r.Expire(kT0 + kReassemblyTimeout);
  EXPECT_FALSE(r.active());
  EXPECT_TRUE(r.Deadline().IsInfinite());
  EXPECT_FALSE(r.Add(frags[1], kT0 + kReassemblyTimeout));  // fragment 0 is gone
}

TEST(DocumentReassembly, RefusesHandMadeFragmentsOutOfBounds) {
  DocumentReassembly r;
  DocumentFragment f{.total = 4, .offset = 0, .data = Bytes(5)};
  EXPECT_FALSE(r.Add(f, kT0));
  EXPECT_FALSE(r.active());
}

}  // namespace
}  // namespace plexus::mesh
