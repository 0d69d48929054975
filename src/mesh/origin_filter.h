// OriginFilter: may this node originate a route for (prefix, source prefix)?
// (DESIGN.md §2.3: "A route is accepted only for a prefix inside the
// originating node's certificate blocks (or a prefix the network config
// grants to it, such as ::/0 for gateways)".)
//
//   prefix inside a certificate block (RFC 3779) ──────────────> accepted, any source
//   prefix inside the overlay, inside a grant that is itself
//     inside the overlay (a node granted a second prefix) ──────> accepted, any source
//   prefix outside the overlay, inside a grant (e.g. ::/0) ─────> accepted only with a
//     source prefix inside the overlay, so a gateway's default route serves overlay
//     traffic only (DESIGN.md §2.5, RFC 9079 source-specific routing)
//   anything else ──────────────────────────────────────────────> refused
//
// A grant of ::/0 therefore never lets a gateway take over another node's
// prefix inside the overlay.
//
// The overlay is the network prefix and the optional IPv4 network of the
// network config; with no overlay given, sources are not judged. Prefixes are
// compared by their network part (host bits ignored).
//
// Thread use: an immutable value; const methods are safe from any thread.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "identity/certificate.h"
#include "identity/network_config.h"

namespace plexus::mesh {

enum class OriginVerdict : uint8_t {
  kAccepted,
  kOutsideBlocks,         // neither in the certificate blocks nor granted
  kSourceOutsideOverlay,  // a granted prefix outside the overlay without an overlay source
  kFamilyMismatch,        // source prefix of another address family than the prefix
};

std::string_view OriginVerdictName(OriginVerdict verdict);

class OriginFilter {
 public:
  OriginFilter(std::vector<Prefix> blocks, std::vector<Prefix> grants, std::vector<Prefix> overlay);

  // The filter for the node holding `cert` (already verified): its RFC 3779
  // blocks, plus the grants `config` (if any) gives its common name, judged
  // against config's overlay. Errors when the blocks cannot be read.
  static Result<OriginFilter> ForCertificate(const identity::Certificate& cert,
                                             const identity::NetworkConfig* config);

  // `source` is the RFC 9079 source prefix; nullopt (or a /0) for an
  // ordinary route.
  OriginVerdict Check(const Prefix& prefix, const std::optional<Prefix>& source) const;
  bool Accepts(const Prefix& prefix, const std::optional<Prefix>& source) const {
    return Check(prefix, source) == OriginVerdict::kAccepted;
  }

 private:
  static bool AnyContains(const std::vector<Prefix>& set, const Prefix& p);
  bool SourceInOverlay(const std::optional<Prefix>& source) const;

  std::vector<Prefix> blocks_;
  std::vector<Prefix> inner_grants_;  // grants inside the overlay
  std::vector<Prefix> outer_grants_;  // the others (all of them when there is no overlay)
  std::vector<Prefix> overlay_;
};

}  // namespace plexus::mesh
