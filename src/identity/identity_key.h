// Ed25519 identity keys (RFC 8032) for the network CA and for nodes
// (DESIGN.md §2.3). Keys live in OpenSSL EVP_PKEYs; OpenSSL wipes the private
// key material when the EVP_PKEY is freed. Not thread-safe per object; distinct
// objects may be used from different threads.
#pragma once

#include <openssl/evp.h>

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "identity/openssl_util.h"

namespace plexus::identity {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

using Ed25519Signature = ByteArray<kEd25519SignatureSize>;

// An Ed25519 public key: 32 raw bytes (RFC 8032 §5.1.5); a value type.
class IdentityPublicKey {
 public:
  IdentityPublicKey() = default;
  explicit IdentityPublicKey(const ByteArray<kEd25519PublicKeySize>& b) : b_(b) {}
  // nullopt unless `b` is exactly 32 bytes.
  static std::optional<IdentityPublicKey> FromBytes(ByteSpan b);
  // The raw key of an Ed25519 EVP_PKEY; an error for any other key type.
  static Result<IdentityPublicKey> FromPkey(const EVP_PKEY* pkey);

  ByteSpan span() const { return b_; }
  const ByteArray<kEd25519PublicKeySize>& bytes() const { return b_; }
  std::string ToHex() const;
  // An EVP_PKEY holding this public key, for OpenSSL APIs.
  Result<EvpPkeyPtr> ToPkey() const;
  // True when `signature` is this key's Ed25519 signature of `message`.
  bool Verify(ByteSpan message, ByteSpan signature) const;
  auto operator<=>(const IdentityPublicKey&) const = default;

 private:
  ByteArray<kEd25519PublicKeySize> b_{};
};

// An Ed25519 private key. Move-only; freed (and wiped by OpenSSL) on destruction.
class IdentityKey {
 public:
  // A fresh key from OpenSSL's CSPRNG.
  static Result<IdentityKey> Generate();
  // Parses a PKCS#8 "PRIVATE KEY" PEM block; errors name what is wrong (not
  // PEM, not a private key, not Ed25519).
  static Result<IdentityKey> FromPem(std::string_view pem);
  static Result<IdentityKey> LoadPemFile(const std::string& path);

  IdentityKey(IdentityKey&&) noexcept = default;
  IdentityKey& operator=(IdentityKey&&) noexcept = default;
  IdentityKey(const IdentityKey&) = delete;
  IdentityKey& operator=(const IdentityKey&) = delete;

  // Unencrypted PKCS#8 PEM. Holds the secret: never log it.
  Result<std::string> ToPem() const;
  // Writes ToPem() to `path` with mode 0600 (created or truncated).
  Status SavePemFile(const std::string& path) const;

  const IdentityPublicKey& public_key() const { return public_key_; }
  Result<Ed25519Signature> Sign(ByteSpan message) const;
  EVP_PKEY* pkey() const { return pkey_.get(); }

 private:
  IdentityKey(EvpPkeyPtr pkey, IdentityPublicKey public_key)
      : pkey_(std::move(pkey)), public_key_(public_key) {}
  static Result<IdentityKey> FromPkey(EvpPkeyPtr pkey);

  EvpPkeyPtr pkey_;
  IdentityPublicKey public_key_;
};

}  // namespace plexus::identity
