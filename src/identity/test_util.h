// Shared fixtures for identity tests: a CA and node certificates at a fixed time.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/ip.h"
#include "crypto/x25519.h"
#include "identity/certificate_authority.h"
#include "testing/fake_random.h"

namespace plexus::identity::test {

inline constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15
inline constexpr int64_t kDay = int64_t{24} * 3600;

inline Prefix P(std::string_view text) {
  Result<Prefix> p = Prefix::Parse(text);
  EXPECT_TRUE(p.ok()) << text;
  return p ? *p : Prefix();
}

inline IdentityKey NewKey() {
  Result<IdentityKey> k = IdentityKey::Generate();
  EXPECT_TRUE(k.ok());
  return std::move(*k);
}

inline CertificateAuthority NewCa(testing::FakeRandom& random, std::string name = "meshnet",
                                  std::vector<Prefix> space = {}) {
  CaOptions options{.network_name = std::move(name),
                    .now_unix = kNow - kDay,
                    .lifetime_seconds = 3650 * kDay,
                    .address_space = std::move(space)};
  Result<CertificateAuthority> ca = CertificateAuthority::Create(NewKey(), options, random);
  EXPECT_TRUE(ca.ok()) << (ca ? "" : ca.error().message());
  return std::move(*ca);
}

inline crypto::PublicKey WireGuardKey(uint8_t fill) {
  ByteArray<crypto::kKeySize> b;
  b.fill(std::byte{fill});
  return crypto::PublicKey(b);
}

inline NodeCertificateRequest NodeRequest(const IdentityKey& node_key,
                                          std::vector<Prefix> prefixes = {}) {
  if (prefixes.empty()) prefixes = {P("fd12:3456:789a:1::/64"), P("10.42.0.7/32")};
  return NodeCertificateRequest{.node_name = "alpha",
                                .network_domain = "mesh.example",
                                .identity_key = node_key.public_key(),
                                .wireguard_key = WireGuardKey(0x42),
                                .prefixes = std::move(prefixes),
                                .lifetime_seconds = 30 * kDay};
}

inline Certificate Issue(const CertificateAuthority& ca, const NodeCertificateRequest& request,
                         testing::FakeRandom& random, int64_t now = kNow) {
  Result<Certificate> cert = ca.IssueNodeCertificate(request, now, random);
  EXPECT_TRUE(cert.ok()) << (cert ? "" : cert.error().message());
  return std::move(*cert);
}

}  // namespace plexus::identity::test
