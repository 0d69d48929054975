#include "identity/certificate_authority.h"

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "identity/ip_address_blocks.h"

namespace plexus::identity {
namespace {

constexpr size_t kSerialBytes = 16;  // 128 bits; RFC 5280 §4.1.2.2 allows up to 20 octets

Status SetSerial(X509* cert, Random& random) {
  ByteArray<kSerialBytes> raw;
  random.Fill(raw);
  raw[0] &= std::byte{0x7f};  // positive
  if (std::all_of(raw.begin(), raw.end(), [](std::byte b) { return b == std::byte{0}; })) {
    raw[kSerialBytes - 1] = std::byte{1};  // RFC 5280: positive, so never zero
  }
  BignumPtr bn(BN_bin2bn(U8(ByteSpan(raw)), static_cast<int>(raw.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("setting the serial number");
  }
  return Ok();
}

Status SetValidity(X509* cert, int64_t not_before, int64_t not_after) {
  if (not_after <= not_before) return MakeError("validity period is empty");
  if (ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(not_after)) == nullptr) {
    return OpenSslError("setting the validity period");
  }
  return Ok();
}

Status AddNameEntry(X509_NAME* name, int nid, std::string_view value) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return OpenSslError("building the subject name");
  }
  return Ok();
}

Status AddBasicConstraints(X509* cert, bool ca) {
  BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
  if (!bc) return OpenSslError("basicConstraints");
  bc->ca = ca ? 1 : 0;
  if (X509_add1_ext_i2d(cert, NID_basic_constraints, bc.get(), 1, X509V3_ADD_REPLACE) != 1) {
    return OpenSslError("adding basicConstraints");
  }
  return Ok();
}

// RFC 5280 §4.2.1.3 KeyUsage bit numbers.
constexpr int kDigitalSignature = 0;
constexpr int kKeyCertSign = 5;
constexpr int kCrlSign = 6;

Status AddKeyUsage(X509* cert, std::initializer_list<int> bits) {
  Asn1BitStringPtr usage(ASN1_BIT_STRING_new());
  if (!usage) return OpenSslError("keyUsage");
  for (int bit : bits) {
    if (ASN1_BIT_STRING_set_bit(usage.get(), bit, 1) != 1) return OpenSslError("keyUsage");
  }
  if (X509_add1_ext_i2d(cert, NID_key_usage, usage.get(), 1, X509V3_ADD_REPLACE) != 1) {
    return OpenSslError("adding keyUsage");
  }
  return Ok();
}

// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
Status AddSubjectKeyId(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  Asn1OctetStringPtr id(ASN1_OCTET_STRING_new());
  if (!id || X509_pubkey_digest(cert, EVP_sha1(), md, &len) != 1 ||
      ASN1_OCTET_STRING_set(id.get(), md, static_cast<int>(len)) != 1 ||
      X509_add1_ext_i2d(cert, NID_subject_key_identifier, id.get(), 0, X509V3_ADD_REPLACE) != 1) {
    return OpenSslError("adding subjectKeyIdentifier");
  }
  return Ok();
}

Status AddAuthorityKeyId(X509* cert, const X509* issuer) {
  Asn1OctetStringPtr issuer_id(static_cast<ASN1_OCTET_STRING*>(
      X509_get_ext_d2i(issuer, NID_subject_key_identifier, nullptr, nullptr)));
  if (!issuer_id) return MakeError("the CA certificate has no subjectKeyIdentifier");
  AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
  if (!akid) return OpenSslError("authorityKeyIdentifier");
  akid->keyid = issuer_id.release();
  if (X509_add1_ext_i2d(cert, NID_authority_key_identifier, akid.get(), 0, X509V3_ADD_REPLACE) !=
      1) {
    return OpenSslError("adding authorityKeyIdentifier");
  }
  return Ok();
}

Status AddDnsName(X509* cert, const std::string& dns) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  if (!names || name == nullptr || ia5 == nullptr ||
      ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(ia5);
    return OpenSslError("subjectAltName");
  }
  GENERAL_NAME_set0_value(name, GEN_DNS, ia5);
  if (sk_GENERAL_NAME_push(names.get(), name) <= 0) {
    GENERAL_NAME_free(name);
    return OpenSslError("subjectAltName");
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_REPLACE) != 1) {
    return OpenSslError("adding subjectAltName");
  }
  return Ok();
}

Status AddWireGuardKey(X509* cert, const crypto::PublicKey& key) {
  Asn1ObjectPtr oid = WireGuardKeyObject();
  Asn1OctetStringPtr inner(ASN1_OCTET_STRING_new());
  Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
  if (!oid || !inner || !value ||
      ASN1_OCTET_STRING_set(inner.get(), U8(key.span()), static_cast<int>(key.span().size())) !=
          1) {
    return OpenSslError("WireGuard key extension");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ASN1_OCTET_STRING(inner.get(), &der);
  if (der_len <= 0) return OpenSslError("WireGuard key extension");
  int set = ASN1_OCTET_STRING_set(value.get(), der, der_len);
  OPENSSL_free(der);
  X509ExtensionPtr ext(set == 1 ? X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, value.get())
                                : nullptr);
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError("adding the WireGuard key extension");
  }
  return Ok();
}

bool IsValidNetworkName(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&  // RFC 5280 ub-common-name
         std::none_of(name.begin(), name.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool IsValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    if (!IsValidDnsLabel(domain.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// A v3 certificate with serial, names, validity and public key set; no extensions.
Result<X509Ptr> NewCertificate(const X509_NAME* subject, const X509_NAME* issuer,
                               int64_t not_before, int64_t not_after,
                               const IdentityPublicKey& subject_key, Random& random) {
  X509Ptr cert(X509_new());
  Result<EvpPkeyPtr> pkey = subject_key.ToPkey();
  if (!pkey) return pkey.error();
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer) != 1 ||
      X509_set_pubkey(cert.get(), pkey->get()) != 1) {
    return OpenSslError("building a certificate");
  }
  Status s = SetSerial(cert.get(), random);
  if (s) s = SetValidity(cert.get(), not_before, not_after);
  if (!s) return s.error();
  return cert;
}

Status SignCertificate(X509* cert, const IdentityKey& key) {
  // Ed25519 (RFC 8410 §6): no separate digest, so md is null.
  if (X509_sign(cert, key.pkey(), nullptr) <= 0) return OpenSslError("signing the certificate");
  return Ok();
}

Status AddCaExtensions(X509* cert, const CaOptions& options) {
  std::vector<Prefix> space = options.address_space;
  if (space.empty()) {
    space = {Prefix(IpAddress::V4({0, 0, 0, 0}), 0), Prefix(IpAddress::V6({}), 0)};
  }
  Status s = AddBasicConstraints(cert, true);
  if (s) s = AddKeyUsage(cert, {kKeyCertSign, kCrlSign});
  if (s) s = AddSubjectKeyId(cert);
  if (s) s = AddAuthorityKeyId(cert, cert);
  if (s) s = AddIpAddressBlocks(cert, space);
  return s;
}

Status AddNodeExtensions(X509* cert, const X509* issuer, const NodeCertificateRequest& request) {
  Status s = AddBasicConstraints(cert, false);
  if (s) s = AddKeyUsage(cert, {kDigitalSignature});
  if (s) s = AddSubjectKeyId(cert);
  if (s) s = AddAuthorityKeyId(cert, issuer);
  if (s) s = AddIpAddressBlocks(cert, request.prefixes);
  if (s) s = AddDnsName(cert, request.node_name + "." + request.network_domain);
  if (s) s = AddWireGuardKey(cert, request.wireguard_key);
  return s;
}

Status CheckRequest(const NodeCertificateRequest& request) {
  if (!IsValidDnsLabel(request.node_name)) {
    return MakeError("node name \"{}\" is not a DNS label", request.node_name);
  }
  if (!IsValidDomain(request.network_domain)) {
    return MakeError("network domain \"{}\" is not a DNS name", request.network_domain);
  }
  if (request.prefixes.empty()) return MakeError("node certificate needs at least one prefix");
  if (request.wireguard_key.IsZero()) return MakeError("WireGuard public key is all zeros");
  if (request.lifetime_seconds <= 0) return MakeError("certificate lifetime must be positive");
  return Ok();
}

}  // namespace

bool IsValidDnsLabel(std::string_view label) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  return !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
         std::all_of(label.begin(), label.end(), ok_char);
}

Result<CertificateAuthority> CertificateAuthority::Create(IdentityKey key, const CaOptions& options,
                                                          Random& random) {
  if (!IsValidNetworkName(options.network_name)) {
    return MakeError("network name \"{}\" must be 1..64 printable bytes", options.network_name);
  }
  if (options.lifetime_seconds <= 0) return MakeError("CA lifetime must be positive");
  X509NamePtr name(X509_NAME_new());
  if (!name) return OpenSslError("CA name");
  Status s = AddNameEntry(name.get(), NID_commonName, options.network_name);
  if (!s) return s.error();
  Result<X509Ptr> cert =
      NewCertificate(name.get(), name.get(), options.now_unix - kClockSkewAllowanceSeconds,
                     options.now_unix + options.lifetime_seconds, key.public_key(), random);
  if (!cert) return cert.error().Wrap("CA certificate");
  s = AddCaExtensions(cert->get(), options);
  if (s) s = SignCertificate(cert->get(), key);
  if (!s) return s.error().Wrap("CA certificate");
  return CertificateAuthority(std::move(key), Certificate(std::move(*cert)), options.network_name);
}

Result<CertificateAuthority> CertificateAuthority::FromParts(IdentityKey key, Certificate cert) {
  if (!cert.IsCa()) return MakeError("not a CA certificate (basicConstraints cA is not TRUE)");
  Result<IdentityPublicKey> cert_key = cert.SubjectPublicKey();
  if (!cert_key) return cert_key.error();
  if (*cert_key != key.public_key()) return MakeError("the CA key does not match the certificate");
  std::string name = cert.SubjectCommonName();
  if (!IsValidNetworkName(name)) return MakeError("CA certificate has no usable CN");
  return CertificateAuthority(std::move(key), std::move(cert), std::move(name));
}

Result<Certificate> CertificateAuthority::IssueNodeCertificate(
    const NodeCertificateRequest& request, int64_t now_unix, Random& random) const {
  Status s = CheckRequest(request);
  if (!s) return s.error().Wrap("node certificate");
  X509NamePtr subject(X509_NAME_new());
  if (!subject) return OpenSslError("node name");
  s = AddNameEntry(subject.get(), NID_commonName, request.node_name);
  if (s) s = AddNameEntry(subject.get(), NID_organizationName, network_name_);
  if (!s) return s.error();
  const X509* issuer = cert_.get();
  Result<X509Ptr> cert = NewCertificate(
      subject.get(), X509_get_subject_name(issuer), now_unix - kClockSkewAllowanceSeconds,
      now_unix + request.lifetime_seconds, request.identity_key, random);
  if (!cert) return cert.error().Wrap("node certificate");
  s = AddNodeExtensions(cert->get(), issuer, request);
  if (s) s = SignCertificate(cert->get(), key_);
  if (!s) return s.error().Wrap(fmt::format("node certificate for {}", request.node_name));
  return Certificate(std::move(*cert));
}

}  // namespace plexus::identity
