#include "registry/token.h"

#include <array>

#include "crypto/blake2s.h"

namespace plexus {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kHashDomain = "plexus token v1";

int DecodeChar(char c) {
  size_t i = kAlphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

std::string RandomId(Random& random) {
  ByteArray<kTokenIdSize> id;
  random.Fill(id);
  return Base64UrlEncode(id);
}

}  // namespace

std::string Base64UrlEncode(ByteSpan data) {
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (std::byte b : data) {
    acc = (acc << 8) | std::to_integer<uint32_t>(b);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<Bytes> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = DecodeChar(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::byte>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero so that each byte string has one encoding.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string IssuedToken::Text() const {
  return token.id + "." + Base64UrlEncode(secret.span());
}

IssuedToken MakeToken(Random& random, UnixSeconds now, std::chrono::seconds lifetime, int uses,
                      int prefix_length) {
  IssuedToken t;
  random.Fill(t.secret.mutable_span());
  t.token.id = RandomId(random);
  t.token.secret_hash = HashTokenSecret(t.secret);
  t.token.uses_left = uses;
  t.token.expires_at = now + lifetime;
  t.token.prefix_length = prefix_length;
  t.token.created_at = now;
  return t;
}

Result<TokenText> ParseTokenText(std::string_view text) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return MakeError("malformed token: no '.'");
  std::optional<Bytes> id = Base64UrlDecode(text.substr(0, dot));
  std::optional<Bytes> secret = Base64UrlDecode(text.substr(dot + 1));
  if (!id || id->size() != kTokenIdSize) return MakeError("malformed token: bad id");
  if (!secret || secret->size() != kTokenSecretSize)
    return MakeError("malformed token: bad secret");
  TokenText out{std::string(text.substr(0, dot)), TokenSecret(*secret)};
  sodium_memzero(secret->data(), secret->size());
  return out;
}

TokenHash HashTokenSecret(const TokenSecret& secret) {
  return crypto::Blake2sHash({AsBytes(kHashDomain), secret.span()});
}

Status CheckToken(const Token& token, const TokenSecret& secret, UnixSeconds now) {
  TokenHash presented = HashTokenSecret(secret);
  if (!ConstantTimeEqual(presented, token.secret_hash)) return MakeError("wrong token secret");
  if (now >= token.expires_at) return MakeError("token {} has expired", token.id);
  if (token.uses_left <= 0) return MakeError("token {} has no use left", token.id);
  return Ok();
}

}  // namespace plexus
