#include "identity/verify.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>

namespace plexus::identity {
namespace {

CertificateVerdict Reject(CertificateRejection r, std::string message) {
  return {r, std::move(message)};
}

CertificateRejection MapVerifyError(int error, int depth) {
  switch (error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return CertificateRejection::kWrongCa;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
      return depth == 0 ? CertificateRejection::kBadSignature : CertificateRejection::kChainInvalid;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return depth == 0 ? CertificateRejection::kNotYetValid : CertificateRejection::kCaNotValid;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return depth == 0 ? CertificateRejection::kExpired : CertificateRejection::kCaNotValid;
    case X509_V_ERR_UNNESTED_RESOURCE:
      return CertificateRejection::kPrefixOutsideNetwork;
    default:
      return CertificateRejection::kChainInvalid;
  }
}

// Step 1: the chain leaf -> CA at time `now`.
CertificateVerdict VerifyChain(const Certificate& cert, const Certificate& ca, int64_t now) {
  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return Reject(CertificateRejection::kChainInvalid,
                  OpenSslError("setting up chain verification").message());
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now));
  int rc = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (rc == 1) return {};
  int error = X509_STORE_CTX_get_error(ctx.get());
  int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  return Reject(MapVerifyError(error, depth), fmt::format("certificate chain (depth {}): {}", depth,
                                                          X509_verify_cert_error_string(error)));
}

std::string NormalizeSerial(std::string_view hex) {
  std::string out;
  for (char c : hex) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t nonzero = out.find_first_not_of('0');
  return nonzero == std::string::npos ? "0" : out.substr(nonzero);
}

bool IsRevoked(const Certificate& cert, std::span<const std::string> revoked_serials) {
  std::string serial = cert.SerialHex();
  return std::any_of(revoked_serials.begin(), revoked_serials.end(),
                     [&](const std::string& r) { return NormalizeSerial(r) == serial; });
}

// Steps 2-4: what makes it a plexus node certificate for this link.
CertificateVerdict CheckNodeFields(const Certificate& cert,
                                   std::span<const std::string> revoked_serials,
                                   const crypto::PublicKey& expected_wireguard_key) {
  if (cert.IsCa()) {
    return Reject(CertificateRejection::kNotNodeCertificate, "certificate is a CA (cA = TRUE)");
  }
  if (IsRevoked(cert, revoked_serials)) {
    return Reject(CertificateRejection::kRevoked,
                  fmt::format("serial {} is revoked", cert.SerialHex()));
  }
  Result<std::vector<Prefix>> blocks = cert.IpAddressBlocks();
  if (!blocks || blocks->empty()) {
    return Reject(CertificateRejection::kMissingIpAddressBlocks,
                  blocks ? "no IP address blocks extension" : blocks.error().message());
  }
  std::optional<crypto::PublicKey> wg = cert.WireGuardKey();
  if (!wg) {
    return Reject(CertificateRejection::kMissingWireGuardKey,
                  fmt::format("no valid WireGuard key extension ({})", kWireGuardKeyOid));
  }
  if (*wg != expected_wireguard_key) {
    return Reject(CertificateRejection::kWireGuardKeyMismatch,
                  fmt::format("certificate WireGuard key {} is not the handshake key {}",
                              wg->ToBase64(), expected_wireguard_key.ToBase64()));
  }
  return {};
}

}  // namespace

std::string_view CertificateRejectionName(CertificateRejection r) {
  switch (r) {
    case CertificateRejection::kNone:
      return "ok";
    case CertificateRejection::kWrongCa:
      return "wrong-ca";
    case CertificateRejection::kBadSignature:
      return "bad-signature";
    case CertificateRejection::kNotYetValid:
      return "not-yet-valid";
    case CertificateRejection::kExpired:
      return "expired";
    case CertificateRejection::kCaNotValid:
      return "ca-not-valid";
    case CertificateRejection::kRevoked:
      return "revoked";
    case CertificateRejection::kNotNodeCertificate:
      return "not-node-certificate";
    case CertificateRejection::kMissingIpAddressBlocks:
      return "missing-ip-address-blocks";
    case CertificateRejection::kPrefixOutsideNetwork:
      return "prefix-outside-network";
    case CertificateRejection::kMissingWireGuardKey:
      return "missing-wireguard-key";
    case CertificateRejection::kWireGuardKeyMismatch:
      return "wireguard-key-mismatch";
    case CertificateRejection::kChainInvalid:
      return "chain-invalid";
  }
  return "unknown";
}

Status CertificateVerdict::ToStatus() const {
  if (ok()) return Ok();
  return MakeError("{}: {}", CertificateRejectionName(rejection), message);
}

CertificateVerdict VerifyNodeCertificate(const Certificate& cert, const Certificate& ca,
                                         int64_t now_unix,
                                         std::span<const std::string> revoked_serials,
                                         const crypto::PublicKey& expected_wireguard_key) {
  CertificateVerdict chain = VerifyChain(cert, ca, now_unix);
  if (!chain) return chain;
  return CheckNodeFields(cert, revoked_serials, expected_wireguard_key);
}

}  // namespace plexus::identity
