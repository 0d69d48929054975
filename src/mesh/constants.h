// Link-control constants (STYLE.md rule 3).
//
// The "specification" block is what DESIGN.md fixes and what every plexus
// node must agree on (port, payload bound, wire version); changing one breaks
// links with older nodes. The "implementation" block holds this
// implementation's timers and limits: a node with other values still
// interoperates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/time.h"

namespace plexus::mesh {

// ---- Specification -------------------------------------------------------

// DESIGN.md §2.2: link control is IPv6 link-local UDP on this port inside a link.
inline constexpr uint16_t kLinkControlPort = 6327;
inline constexpr uint16_t kLinkControlMagic = 0x504c;  // "PL"
inline constexpr uint8_t kLinkControlVersion = 1;
// 1280 (IPv6 minimum MTU) - 40 (IPv6 header) - 8 (UDP header): a payload no
// link along the way has to fragment.
inline constexpr size_t kMaxPayloadSize = 1232;
// Bounds one document (CRL or network config) in flight; far above a network
// config or a CRL of a few thousand serials.
inline constexpr size_t kMaxDocumentSize = size_t{256} * 1024;

// ---- Implementation ------------------------------------------------------

// LinkAuthorisation: our certificate and a request for the peer's are resent
// until it answers, from 1 s doubling up to 30 s.
inline constexpr Duration kCertificateResendInitial = 1s;
inline constexpr Duration kCertificateResendMax = 30s;
// Requests for our certificate are answered at most this often per link.
inline constexpr Duration kMinCertificateInterval = 1s;
// Within this long of the peer certificate's notAfter, ask for a renewed one
// every kRenewalRequestInterval.
inline constexpr Duration kRenewalWindow = 1h;
inline constexpr Duration kRenewalRequestInterval = 5min;
// Peer certificates valid for longer than this are tracked as if they ended
// then (keeps the monotonic deadline far from overflow); re-checked at that point.
inline constexpr Duration kMaxTrackedValidity = 24h * 365 * 50;

// DocumentFlood: Versions on every link this often (heals lost announcements).
inline constexpr Duration kVersionsInterval = 60s;
// A DocumentRequest unanswered for this long is asked again, with doubling.
inline constexpr Duration kRequestTimeoutInitial = 2s;
inline constexpr Duration kRequestTimeoutMax = 60s;
// The same document is sent to a link at most this often.
inline constexpr Duration kMinDocumentInterval = 1s;
// A document whose fragments stop arriving is dropped after this long.
inline constexpr Duration kReassemblyTimeout = 10s;

}  // namespace plexus::mesh
