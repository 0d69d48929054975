#include "node/drop_counters.h"

namespace plexus::node {

std::string_view ToString(NodeDrop d) {
  switch (d) {
    case NodeDrop::kNotIp:
      return "not_ip";
    case NodeDrop::kNoRoute:
      return "no_route";
    case NodeDrop::kStagedOverflow:
      return "staged_overflow";
    case NodeDrop::kSegmentationError:
      return "segmentation_error";
    case NodeDrop::kBadInnerPacket:
      return "bad_inner_packet";
    case NodeDrop::kSourceNotAllowed:
      return "source_not_allowed";
    case NodeDrop::kHandshakeBacklog:
      return "handshake_backlog";
    case NodeDrop::kLinkLocal:
      return "link_local";
    case NodeDrop::kLinkLocalRateLimited:
      return "link_local_rate_limited";
    case NodeDrop::kLocalDestination:
      return "local_destination";
    case NodeDrop::kHopLimitExceeded:
      return "hop_limit_exceeded";
    case NodeDrop::kPacketTooBig:
      return "packet_too_big";
    case NodeDrop::kIcmpRateLimited:
      return "icmp_rate_limited";
    case NodeDrop::kUnauthorisedLink:
      return "unauthorised_link";
  }
  return "unknown";
}

}  // namespace plexus::node
