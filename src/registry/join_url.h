// The join URL `plexus registry token create` prints and `plexus join` takes
// (docs/decisions/0005-join-url.md):
//
//   plexus://HOST[:PORT]/TOKEN#sha256=FINGERPRINT
//
//   HOST         a DNS name, an IPv4 address or a bracketed IPv6 address
//   PORT         the registry's HTTPS port, default kDefaultRegistryPort (8443)
//   TOKEN        the enrolment token "<id>.<secret>" (registry/token.h)
//   FINGERPRINT  64 hex digits: SHA-256 of the network CA certificate's DER
//
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace plexus {

inline constexpr std::string_view kJoinUrlScheme = "plexus://";

struct JoinUrl {
  std::string host;  // without brackets
  uint16_t port = 0;
  std::string token;
  std::string ca_fingerprint;  // lowercase hex

  // The canonical text (IPv6 hosts bracketed).
  std::string ToString() const;
};

// Errors name the part that is wrong.
Result<JoinUrl> ParseJoinUrl(std::string_view text);

}  // namespace plexus
