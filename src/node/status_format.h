// The status document the node serves on the control socket, and its human
// form for `plexus status` (laid out like `wg show`).
//
// Request {"command":"status"} -> {"ok":true,"result":STATUS}, where STATUS is
// exactly this object (`plexus status --json` prints it as received):
//
//   {
//     "interface": {
//       "name": "plx0",                       // the TUN device
//       "public_key": "<base64>",
//       "listen_port": 51820,                 // the bound port (the real one when 0 was
//       configured) "addresses": ["fd00:1::1/64", ...],   // as configured, host bits kept "mtu":
//       1420
//     },
//     "peers": [                              // in config order
//       {
//         "public_key": "<base64>",
//         "endpoint": "192.0.2.2:51820",      // or "[2001:db8::2]:51820", or null when unknown
//         "allowed_prefixes": ["fd00:1::2/128", ...],
//         "last_handshake_unix": 1700000000,  // wall-clock seconds of the last completed
//                                             // handshake; 0 = never
//         "rx_bytes": 123, "tx_bytes": 456,   // transport data bytes, as `wg show` counts them
//         "state": "established",             // a short phrase, e.g. "no endpoint",
//                                             // "handshake pending", "established", "expired"
//         "persistent_keepalive": 25          // seconds; 0 = off
//       }
//     ],
//     "drops": {"invalid_mac1": 3, ...},      // DropReason name -> count of dropped packets
//     "counters": {"rx_packets": 9, ...}      // other named counters (integers)
//   }
//
// The formatter never throws on a malformed document: a missing or mistyped
// field is shown as absent.
//
// Thread: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace plexus::node {

// The whole `plexus status` text. `now_unix` is the current wall-clock time
// in seconds, for the relative "latest handshake" times.
std::string FormatStatus(const nlohmann::json& status, int64_t now_unix);

// "1 year, 2 days, 1 hour, 1 minute, 3 seconds" (zero units omitted); "0 seconds".
std::string FormatDuration(int64_t seconds);

// When `then_unix` was, seen from `now_unix`: "1 minute, 3 seconds ago",
// "just now", "never" (0), or a note when it is in the future.
std::string FormatAgo(int64_t then_unix, int64_t now_unix);

// "512 B", "1.50 KiB", "3.00 MiB", "1.25 GiB", "2.00 TiB" (as `wg show`).
std::string FormatBytes(uint64_t bytes);

}  // namespace plexus::node
