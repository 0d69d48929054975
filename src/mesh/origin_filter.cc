#include "mesh/origin_filter.h"

#include <algorithm>

namespace plexus::mesh {
namespace {

std::vector<Prefix> Networks(std::vector<Prefix> prefixes) {
  for (Prefix& p : prefixes) p = p.Network();
  return prefixes;
}

std::vector<Prefix> Overlay(const identity::NetworkConfig& config) {
  std::vector<Prefix> overlay = {config.network_prefix};
  if (config.ipv4_network) overlay.push_back(*config.ipv4_network);
  return overlay;
}

}  // namespace

std::string_view OriginVerdictName(OriginVerdict verdict) {
  switch (verdict) {
    case OriginVerdict::kAccepted:
      return "accepted";
    case OriginVerdict::kOutsideBlocks:
      return "outside_blocks";
    case OriginVerdict::kSourceOutsideOverlay:
      return "source_outside_overlay";
    case OriginVerdict::kFamilyMismatch:
      return "family_mismatch";
  }
  return "unknown";
}

OriginFilter::OriginFilter(std::vector<Prefix> blocks, std::vector<Prefix> grants,
                           std::vector<Prefix> overlay)
    : blocks_(Networks(std::move(blocks))), overlay_(Networks(std::move(overlay))) {
  for (const Prefix& g : Networks(std::move(grants))) {
    bool inner = !overlay_.empty() && AnyContains(overlay_, g);
    (inner ? inner_grants_ : outer_grants_).push_back(g);
  }
}

Result<OriginFilter> OriginFilter::ForCertificate(const identity::Certificate& cert,
                                                  const identity::NetworkConfig* config) {
  Result<std::vector<Prefix>> blocks = cert.IpAddressBlocks();
  if (!blocks) return blocks.error().Wrap("certificate blocks");
  if (!config) return OriginFilter(std::move(*blocks), {}, {});
  return OriginFilter(std::move(*blocks),
                      identity::GrantedPrefixes(*config, cert.SubjectCommonName()),
                      Overlay(*config));
}

OriginVerdict OriginFilter::Check(const Prefix& prefix, const std::optional<Prefix>& source) const {
  Prefix p = prefix.Network();
  bool has_source = source && source->length() > 0;
  if (has_source && source->family() != p.family()) return OriginVerdict::kFamilyMismatch;
  if (AnyContains(blocks_, p) || AnyContains(inner_grants_, p)) return OriginVerdict::kAccepted;
  bool in_overlay = AnyContains(overlay_, p);
  if (in_overlay || !AnyContains(outer_grants_, p)) return OriginVerdict::kOutsideBlocks;
  if (overlay_.empty() || (has_source && SourceInOverlay(source))) return OriginVerdict::kAccepted;
  return OriginVerdict::kSourceOutsideOverlay;
}

bool OriginFilter::AnyContains(const std::vector<Prefix>& set, const Prefix& p) {
  return std::any_of(set.begin(), set.end(), [&](const Prefix& s) { return s.Contains(p); });
}

bool OriginFilter::SourceInOverlay(const std::optional<Prefix>& source) const {
  return AnyContains(overlay_, source->Network());
}

}  // namespace plexus::mesh
