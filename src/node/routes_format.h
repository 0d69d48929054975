// The `plexus routes` document (Node::RoutesJson) and its text form.
//
//   {
//     "router_id": "1a:2b:3c:4d:5e:6f:70:81", "link_local": "fe80::1a2b:3c4d:5e6f:7081",
//     "routes": [                              // own prefixes and every learned route
//       {"prefix": "fd00:b::/64", "source_prefix": null, "local": false,
//        "metric": 352, "advertised_metric": 96, "link_cost": 256, "rtt_ms": 0.42,
//        "next_hop": "fe80::...", "peer": "<base64 key>", "router_id": "...",
//        "seqno": 3, "feasible": true, "selected": true}
//     ],
//     "neighbours": [
//       {"peer": "<base64 key>", "address": "fe80::...", "link": "up",
//        "rxcost": 256, "txcost": 256, "cost": 256, "rtt_ms": 0.42}
//     ]
//   }
//
// Selected routes are marked '*' in the text; a malformed document never
// makes the formatter throw (missing fields show as '-').
//
// Thread: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace plexus::node {

std::string FormatRoutes(const nlohmann::json& routes);

}  // namespace plexus::node
