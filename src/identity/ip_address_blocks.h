// The RFC 3779 IP address delegation extension (id-pe-ipAddrBlocks,
// "sbgp-ipAddrBlock" in OpenSSL): the prefixes a node may originate
// (DESIGN.md §2.3). Built on OpenSSL's X509v3_addr_* functions.
//
//   IPAddrBlocks ::= SEQUENCE OF IPAddressFamily            -- RFC 3779 §2.2.3
//   IPAddressFamily ::= SEQUENCE { addressFamily OCTET STRING (AFI 1 = IPv4, 2 = IPv6),
//                                  ipAddressChoice { inherit | addressesOrRanges } }
//
// The encoding is canonical (§2.2.3.6): sorted, and adjacent or contiguous
// prefixes merged, so decoding {10.0.0.0/25, 10.0.0.128/25} yields 10.0.0.0/24.
#pragma once

#include <openssl/x509v3.h>

#include <span>
#include <vector>

#include "base/ip.h"
#include "base/result.h"

namespace plexus::identity {

// Adds a critical sbgp-ipAddrBlock extension listing `prefixes` (host bits
// are cleared) to `cert`. Errors on overlapping prefixes or an empty list.
Status AddIpAddressBlocks(X509* cert, std::span<const Prefix> prefixes);

// The cert's blocks as prefixes (ranges are split into the fewest prefixes),
// IPv4 first. An empty list when the extension is absent; an error when it is
// malformed or uses "inherit" (which plexus never issues).
Result<std::vector<Prefix>> ReadIpAddressBlocks(const X509* cert);

// The smallest list of prefixes covering exactly [first, last] (same family,
// first <= last). Exposed for tests.
std::vector<Prefix> RangeToPrefixes(const IpAddress& first, const IpAddress& last);

}  // namespace plexus::identity
