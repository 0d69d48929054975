// Enrolment tokens (DESIGN.md §1: "enrolment by token").
//
// An operator creates a token; the joining node presents its text once (or N
// times for a multi-use token) to obtain a certificate. The text is
//
//   <id>.<secret>        e.g. "q3VhbT1ZmM8.Zm9vYmFyYmF6cXV4cXV1eA"
//
// where both parts are URL-safe base64 without padding (RFC 4648 §5): `id` is
// 64 random bits naming the token row, `secret` is 128 random bits. The
// registry stores only BLAKE2s("plexus token v1" || secret), never the secret,
// and compares hashes in constant time. Looking the row up by the public id
// keeps the secret out of any index lookup.
//
// Pure functions; any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/random.h"
#include "base/result.h"
#include "crypto/secret.h"

namespace plexus {

using UnixSeconds = std::chrono::sys_seconds;

inline constexpr size_t kTokenIdSize = 8;
inline constexpr size_t kTokenSecretSize = 16;
inline constexpr size_t kTokenHashSize = 32;

using TokenSecret = crypto::Secret<kTokenSecretSize>;
using TokenHash = ByteArray<kTokenHashSize>;

// A token row as the registry stores it.
struct Token {
  std::string id;  // base64url of kTokenIdSize bytes
  TokenHash secret_hash{};
  int uses_left = 0;
  UnixSeconds expires_at{};
  int prefix_length = 64;  // length of the prefix a node joining with it gets
  UnixSeconds created_at{};
};

// A token as just made: the stored row plus the secret, shown to the operator once.
struct IssuedToken {
  Token token;
  TokenSecret secret;
  // "<id>.<secret>", the text to hand to the joining node.
  std::string Text() const;
};

// The parts of a token text.
struct TokenText {
  std::string id;
  TokenSecret secret;
};

// URL-safe base64 without padding (RFC 4648 §5).
std::string Base64UrlEncode(ByteSpan data);
// nullopt on a character outside the URL-safe alphabet, '=' or an impossible length.
std::optional<Bytes> Base64UrlDecode(std::string_view text);

// A new token with random id and secret, `uses` >= 1 uses, valid until `now + lifetime`.
IssuedToken MakeToken(Random& random, UnixSeconds now, std::chrono::seconds lifetime, int uses,
                      int prefix_length);
// Splits and decodes "<id>.<secret>"; fails with "malformed token" on any other shape.
[[nodiscard]] Result<TokenText> ParseTokenText(std::string_view text);
TokenHash HashTokenSecret(const TokenSecret& secret);
// Ok if `secret` matches `token` (constant-time), the token has a use left and
// `now` is before its expiry. Errors: "wrong token secret", "token <id> has
// expired", "token <id> has no use left".
[[nodiscard]] Status CheckToken(const Token& token, const TokenSecret& secret, UnixSeconds now);

}  // namespace plexus
