#include "identity/certificate.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "identity/ip_address_blocks.h"

namespace plexus::identity {
namespace {

std::string NameEntry(const X509_NAME* name, int nid) {
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

Result<int64_t> ToUnix(const ASN1_TIME* t, std::string_view what) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return OpenSslError(what);
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

Asn1ObjectPtr WireGuardKeyObject() {
  return Asn1ObjectPtr(OBJ_txt2obj(std::string(kWireGuardKeyOid).c_str(), 1));
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return OpenSslError("not a PEM certificate");
  return Certificate(std::move(cert));
}

Result<Certificate> Certificate::FromDer(ByteSpan der) {
  const unsigned char* p = U8(der);
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return OpenSslError("not a DER certificate");
  if (p != U8(der) + der.size()) return MakeError("trailing bytes after the DER certificate");
  return Certificate(std::move(cert));
}

Certificate Certificate::Clone() const {
  X509_up_ref(cert_.get());
  return Certificate(X509Ptr(cert_.get()));
}

Result<std::string> Certificate::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert_.get()) != 1) {
    return OpenSslError("writing the certificate as PEM");
  }
  return BioContents(bio.get());
}

Result<Bytes> Certificate::ToDer() const {
  int len = i2d_X509(cert_.get(), nullptr);
  if (len <= 0) return OpenSslError("encoding the certificate as DER");
  Bytes der(static_cast<size_t>(len));
  unsigned char* p = U8(MutableByteSpan(der));
  if (i2d_X509(cert_.get(), &p) != len) return OpenSslError("encoding the certificate as DER");
  return der;
}

std::string Certificate::SerialHex() const {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert_.get()), nullptr));
  char* hex = bn ? BN_bn2hex(bn.get()) : nullptr;
  if (hex == nullptr) return {};
  std::string out(hex);
  OPENSSL_free(hex);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return static_cast<char>(std::tolower(c)); });
  size_t nonzero = out.find_first_not_of('0');
  return nonzero == std::string::npos ? "0" : out.substr(nonzero);
}

std::string Certificate::SubjectCommonName() const {
  return NameEntry(X509_get_subject_name(cert_.get()), NID_commonName);
}

std::string Certificate::SubjectOrganization() const {
  return NameEntry(X509_get_subject_name(cert_.get()), NID_organizationName);
}

std::string Certificate::IssuerCommonName() const {
  return NameEntry(X509_get_issuer_name(cert_.get()), NID_commonName);
}

Result<int64_t> Certificate::NotBeforeUnix() const {
  return ToUnix(X509_get0_notBefore(cert_.get()), "certificate notBefore");
}

Result<int64_t> Certificate::NotAfterUnix() const {
  return ToUnix(X509_get0_notAfter(cert_.get()), "certificate notAfter");
}

Result<std::vector<Prefix>> Certificate::IpAddressBlocks() const {
  return ReadIpAddressBlocks(cert_.get());
}

std::optional<crypto::PublicKey> Certificate::WireGuardKey() const {
  Asn1ObjectPtr oid = WireGuardKeyObject();
  int index = oid ? X509_get_ext_by_OBJ(cert_.get(), oid.get(), -1) : -1;
  if (index < 0) return std::nullopt;
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(cert_.get(), index));
  const unsigned char* p = ASN1_STRING_get0_data(value);
  const unsigned char* end = p + ASN1_STRING_length(value);
  Asn1OctetStringPtr inner(d2i_ASN1_OCTET_STRING(nullptr, &p, end - p));
  if (!inner || p != end) {
    ERR_clear_error();
    return std::nullopt;
  }
  return crypto::PublicKey::FromBytes(
      ByteSpan(reinterpret_cast<const std::byte*>(ASN1_STRING_get0_data(inner.get())),
               static_cast<size_t>(ASN1_STRING_length(inner.get()))));
}

std::vector<std::string> Certificate::DnsNames() const {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = name->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                     static_cast<size_t>(ASN1_STRING_length(dns)));
  }
  return out;
}

bool Certificate::IsCa() const {
  BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert_.get(), NID_basic_constraints, nullptr, nullptr)));
  return bc && bc->ca != 0;
}

Result<IdentityPublicKey> Certificate::SubjectPublicKey() const {
  Result<IdentityPublicKey> key = IdentityPublicKey::FromPkey(X509_get0_pubkey(cert_.get()));
  if (!key) return key.error().Wrap("certificate subject key");
  return key;
}

}  // namespace plexus::identity
