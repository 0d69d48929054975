// X25519 over libsodium (RFC 7748); key encodings as wg(8) prints them.
#include "crypto/x25519.h"

#include <sodium.h>

#include "base/base64.h"
#include "crypto/sodium_init.h"

namespace plexus::crypto {
namespace {

static_assert(crypto_scalarmult_BYTES == kKeySize && crypto_scalarmult_SCALARBYTES == kKeySize);

// RFC 7748 §5 decodeScalar25519: clear the 3 low bits and the top bit, set bit 254.
void Clamp(Secret<kKeySize>& key) {
  key.data()[0] &= std::byte{248};
  key.data()[31] &= std::byte{127};
  key.data()[31] |= std::byte{64};
}

// Decodes base64 into exactly 32 bytes, wiping the temporary buffer.
bool DecodeKey(std::string_view text, std::span<std::byte, kKeySize> out) {
  std::optional<Bytes> raw = Base64Decode(text);
  if (!raw) return false;
  bool ok = raw->size() == kKeySize;
  if (ok) std::memcpy(out.data(), raw->data(), kKeySize);
  sodium_memzero(raw->data(), raw->size());
  return ok;
}

}  // namespace

std::optional<PublicKey> PublicKey::FromBytes(ByteSpan b) {
  if (b.size() != kKeySize) return std::nullopt;
  ByteArray<kKeySize> a;
  std::memcpy(a.data(), b.data(), kKeySize);
  return PublicKey(a);
}

std::optional<PublicKey> PublicKey::FromBase64(std::string_view text) {
  ByteArray<kKeySize> a;
  if (!DecodeKey(text, a)) return std::nullopt;
  return PublicKey(a);
}

std::string PublicKey::ToBase64() const {
  return Base64Encode(b_);
}

bool PublicKey::IsZero() const {
  return sodium_is_zero(U8(ByteSpan(b_)), kKeySize) == 1;
}

PrivateKey PrivateKey::Generate(Random& random) {
  PrivateKey k;
  random.Fill(k.key_.mutable_span());
  Clamp(k.key_);
  return k;
}

std::optional<PrivateKey> PrivateKey::FromBase64(std::string_view text) {
  PrivateKey k;
  if (!DecodeKey(text, k.key_.mutable_span())) return std::nullopt;
  Clamp(k.key_);
  return k;
}

PrivateKey PrivateKey::FromBytes(const Secret<kKeySize>& raw) {
  PrivateKey k;
  k.key_ = raw.Clone();
  Clamp(k.key_);
  return k;
}

std::string PrivateKey::ToBase64() const {
  return Base64Encode(key_.span());
}

PublicKey PrivateKey::Public() const {
  EnsureSodiumInitialized();
  ByteArray<kKeySize> pub;
  // Cannot fail for a clamped scalar: the base point has order 8*L, L prime.
  (void)crypto_scalarmult_base(U8(MutableByteSpan(pub)), U8(key_.span()));
  return PublicKey(pub);
}

PrivateKey PrivateKey::Clone() const {
  PrivateKey k;
  k.key_ = key_.Clone();
  return k;
}

bool X25519(Secret<kKeySize>& out, const Secret<kKeySize>& private_key,
            const PublicKey& public_key) {
  EnsureSodiumInitialized();
  // libsodium clamps the scalar, masks the top bit of u (RFC 7748 §5), and
  // returns -1 for low-order points and for an all-zero result.
  if (crypto_scalarmult(U8(MutableByteSpan(out.mutable_span())), U8(private_key.span()),
                        U8(public_key.span())) != 0) {
    out.Wipe();
    return false;
  }
  return !out.IsZero();
}

}  // namespace plexus::crypto
