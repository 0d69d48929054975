#include "registry/server_certificate.h"

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "identity/openssl_util.h"

namespace plexus {
namespace {

using identity::OpenSslError;
using identity::X509Ptr;

Status SetSerial(X509* cert, Random& random) {
  ByteArray<16> raw;
  random.Fill(raw);
  raw[0] &= std::byte{0x7f};  // positive
  raw[15] |= std::byte{1};    // never zero
  identity::BignumPtr bn(BN_bin2bn(U8(ByteSpan(raw)), static_cast<int>(raw.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("server certificate serial");
  }
  return Ok();
}

Status SetNames(X509* cert, const identity::CertificateAuthority& ca) {
  identity::X509NamePtr subject(X509_NAME_new());
  auto add = [&](int nid, std::string_view v) {
    return X509_NAME_add_entry_by_NID(subject.get(), nid, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(v.data()),
                                      static_cast<int>(v.size()), -1, 0) == 1;
  };
  if (!subject || !add(NID_commonName, "plexus registry") ||
      !add(NID_organizationName, ca.network_name()) ||
      X509_set_subject_name(cert, subject.get()) != 1 ||
      X509_set_issuer_name(cert, X509_get_subject_name(ca.certificate().get())) != 1) {
    return OpenSslError("server certificate names");
  }
  return Ok();
}

// "DNS:name" or "IP:address" for each host.
std::string AltNames(const std::vector<std::string>& hosts) {
  std::string out;
  for (const std::string& h : hosts) {
    if (!out.empty()) out += ',';
    out += IpAddress::Parse(h).ok() ? "IP:" : "DNS:";
    out += h;
  }
  return out;
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  identity::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(fmt::format("server certificate extension {}", OBJ_nid2sn(nid)));
  }
  return Ok();
}

Status AddExtensions(X509* cert, X509* issuer, const std::vector<std::string>& hosts) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Status s = AddExtension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE");
  if (s) s = AddExtension(cert, &ctx, NID_key_usage, "critical,digitalSignature");
  if (s) s = AddExtension(cert, &ctx, NID_ext_key_usage, "serverAuth");
  if (s) s = AddExtension(cert, &ctx, NID_subject_key_identifier, "hash");
  if (s) s = AddExtension(cert, &ctx, NID_authority_key_identifier, "keyid:always");
  if (s) s = AddExtension(cert, &ctx, NID_subject_alt_name, AltNames(hosts));
  return s;
}

Status CheckHosts(const std::vector<std::string>& hosts) {
  if (hosts.empty()) return MakeError("server certificate: no host name or address");
  for (const std::string& h : hosts) {
    bool ok = !h.empty() && h.find_first_of(",: \t\n") == std::string::npos;
    if (!ok && !IpAddress::Parse(h).ok()) return MakeError("server host \"{}\": not a name", h);
  }
  return Ok();
}

}  // namespace

Result<ServerCertificate> IssueServerCertificate(const identity::CertificateAuthority& ca,
                                                 const std::vector<std::string>& hosts,
                                                 int64_t now_unix, Random& random) {
  if (Status s = CheckHosts(hosts); !s) return s.error();
  Result<identity::IdentityKey> key = identity::IdentityKey::Generate();
  if (!key) return key.error();
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_pubkey(cert.get(), key->pkey()) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                    static_cast<time_t>(now_unix - identity::kClockSkewAllowanceSeconds)) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                    static_cast<time_t>(now_unix + kServerCertificateLifetimeSeconds)) == nullptr) {
    return OpenSslError("server certificate");
  }
  Status s = SetSerial(cert.get(), random);
  if (s) s = SetNames(cert.get(), ca);
  if (s) s = AddExtensions(cert.get(), ca.certificate().get(), hosts);
  if (!s) return s.error();
  // Ed25519 (RFC 8410 §6): no separate digest.
  if (X509_sign(cert.get(), ca.key().pkey(), nullptr) <= 0) {
    return OpenSslError("signing the server certificate");
  }
  return ServerCertificate{std::move(*key), identity::Certificate(std::move(cert))};
}

}  // namespace plexus
