// X25519 (RFC 7748) keys and Diffie-Hellman, as WireGuard uses them.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/random.h"
#include "crypto/secret.h"

namespace plexus::crypto {

inline constexpr size_t kKeySize = 32;

// A Curve25519 public key; a value type (compare, hash, print as base64).
class PublicKey {
 public:
  PublicKey() = default;
  explicit PublicKey(const ByteArray<kKeySize>& b) : b_(b) {}
  // nullopt unless `b` is exactly 32 bytes.
  static std::optional<PublicKey> FromBytes(ByteSpan b);
  // Parses wg(8)'s base64 form; nullopt when it is not 32 bytes of base64.
  static std::optional<PublicKey> FromBase64(std::string_view text);

  std::string ToBase64() const;
  ByteSpan span() const { return b_; }
  const ByteArray<kKeySize>& bytes() const { return b_; }
  bool IsZero() const;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on a defaulted <=>.
  auto operator<=>(const PublicKey&) const = default;

 private:
  ByteArray<kKeySize> b_{};
};

struct PublicKeyHash {
  size_t operator()(const PublicKey& k) const {
    size_t h;
    std::memcpy(&h, k.span().data(), sizeof h);
    return h;
  }
};

// A clamped Curve25519 private key.
class PrivateKey {
 public:
  PrivateKey() = default;
  // Clamps as RFC 7748 §5 / wg genkey do.
  static PrivateKey Generate(Random& random);
  // Parses wg(8)'s base64 form (clamping it); nullopt when it is not 32 bytes of base64.
  static std::optional<PrivateKey> FromBase64(std::string_view text);
  static PrivateKey FromBytes(const Secret<kKeySize>& raw);

  std::string ToBase64() const;
  PublicKey Public() const;
  const Secret<kKeySize>& secret() const { return key_; }
  PrivateKey Clone() const;

 private:
  Secret<kKeySize> key_;
};

// RFC 7748 §6.1 X25519(private, public). Returns false when the result is all
// zeros (a low-order public key), which WireGuard must reject.
[[nodiscard]] bool X25519(Secret<kKeySize>& out, const Secret<kKeySize>& private_key,
                          const PublicKey& public_key);

}  // namespace plexus::crypto
