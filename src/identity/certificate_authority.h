// CertificateAuthority: the network CA (DESIGN.md §2.3). Creates its own
// self-signed Ed25519 certificate and issues node certificates. Pure: the
// time comes in as Unix seconds and serials from an injected Random.
//
// Node certificate contents (RFC 5280 profile):
//   subject        CN = node name, O = network name (the CA's CN)
//   key            the node's Ed25519 identity key
//   serial         128 random bits (positive)
//   validity       [now - kClockSkewAllowance, now + lifetime]
//   extensions     basicConstraints CA:FALSE (critical), keyUsage digitalSignature
//                  (critical), subjectKeyIdentifier, authorityKeyIdentifier,
//                  sbgp-ipAddrBlock = the node's prefixes (critical, RFC 3779),
//                  subjectAltName DNS:<node>.<network domain>,
//                  kWireGuardKeyOid = the node's X25519 key (non-critical)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.h"
#include "base/random.h"
#include "base/result.h"
#include "crypto/x25519.h"
#include "identity/certificate.h"
#include "identity/identity_key.h"

namespace plexus::identity {

// Backdating of notBefore, so that a peer whose clock is a little behind
// already accepts a fresh certificate.
inline constexpr int64_t kClockSkewAllowanceSeconds = int64_t{5} * 60;

struct CaOptions {
  // The CA's CN and the O of every node certificate; printable, 1..64 bytes.
  std::string network_name;
  int64_t now_unix = 0;
  int64_t lifetime_seconds = 10LL * 365 * 24 * 3600;
  // The CA's own RFC 3779 blocks: node prefixes must lie inside them, or chain
  // validation (RFC 3779 §2.3) rejects the node. Empty means 0.0.0.0/0 and ::/0.
  std::vector<Prefix> address_space;
};

struct NodeCertificateRequest {
  // A DNS label: 1..63 of [a-z0-9-], not starting or ending with '-'.
  std::string node_name;
  // Dot-separated DNS labels, e.g. "mesh.example".
  std::string network_domain;
  IdentityPublicKey identity_key;
  crypto::PublicKey wireguard_key;
  // Prefixes the node may originate; non-empty, non-overlapping.
  std::vector<Prefix> prefixes;
  int64_t lifetime_seconds = 30LL * 24 * 3600;
};

// Immutable after Create/FromParts: const methods may run concurrently, each
// with its own Random.
class CertificateAuthority {
 public:
  // A new self-signed CA certificate for `key`.
  static Result<CertificateAuthority> Create(IdentityKey key, const CaOptions& options,
                                             Random& random);
  // An existing CA (e.g. loaded from disk); errors unless `cert` is a CA
  // certificate for `key`.
  static Result<CertificateAuthority> FromParts(IdentityKey key, Certificate cert);

  const Certificate& certificate() const { return cert_; }
  const IdentityKey& key() const { return key_; }
  const std::string& network_name() const { return network_name_; }

  Result<Certificate> IssueNodeCertificate(const NodeCertificateRequest& request, int64_t now_unix,
                                           Random& random) const;

 private:
  CertificateAuthority(IdentityKey key, Certificate cert, std::string network_name)
      : key_(std::move(key)), cert_(std::move(cert)), network_name_(std::move(network_name)) {}

  IdentityKey key_;
  Certificate cert_;
  std::string network_name_;
};

// True for a DNS label as NodeCertificateRequest::node_name requires.
bool IsValidDnsLabel(std::string_view label);

}  // namespace plexus::identity
