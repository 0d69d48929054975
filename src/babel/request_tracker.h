// Pending requests (RFC 8966 §3.8.1, §3.8.2): the Route Requests and Seqno
// Requests this node sent or forwarded, resent until an Update satisfies
// them or they run out of resends.
//
//   SendRouteRequest / SendSeqnoRequest --+--> pending entry --Tick--> resend
//   ForwardSeqnoRequest (from neighbour) -+         |             (timeout doubles,
//                                                   |              kMaxRequestResends)
//   OnUpdate (seqno >= requested, or retraction) ---+--> Satisfied: who asked
//
// An entry's key is its destination (prefix, RFC 9079 source prefix) and, for
// a Seqno Request, the router-id and the exact seqno asked for. Resends: the
// request is resent kInitialRequestTimeout after it was sent, then after twice
// that, and so on, kMaxRequestResends times; one timeout after the last resend
// the entry is dropped. While an entry is pending, the same request is not
// sent again (duplicate suppression).
//
// Forwarding (§3.8.1.2): a Seqno Request received from neighbour A is
// forwarded only if its hop count is at least 2, with the hop count decreased
// by one, by unicast to the neighbour of the selected route, and never back
// to A. It is dropped when a pending request for the same destination and
// router-id asks for a newer seqno, or for the same seqno with the same or a
// higher hop count; A is then added to the pending entry's requesters so it
// still receives the Update.
//
// Threading: not thread-safe; owned by the Babel core on the control thread.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "babel/constants.h"
#include "babel/neighbour.h"
#include "babel/route_table.h"
#include "babel/router_id.h"
#include "babel/seqno.h"
#include "babel/tlv.h"
#include "base/time.h"

namespace plexus::babel {

struct RequestKey {
  Destination destination;
  std::optional<RouterId> router_id;  // Seqno Requests only
  uint16_t seqno = 0;  // Seqno Requests only; the exact value (a map key, not a modular order)
  auto operator<=>(const RequestKey&) const = default;  // NOLINT(modernize-use-nullptr)
  bool IsSeqnoRequest() const { return router_id.has_value(); }
};

// A request to put on the wire: to `neighbour` by unicast, or multicast on
// every interface when empty.
struct OutgoingRequest {
  std::variant<RouteRequest, SeqnoRequest> tlv;
  std::optional<NeighbourKey> neighbour;
  bool operator==(const OutgoingRequest&) const = default;
};

// A pending request that an Update satisfied: the core sends that Update to
// each requester (neighbours whose Seqno Request we forwarded).
struct SatisfiedRequest {
  RequestKey key;
  bool originated = false;  // we asked ourselves
  std::vector<NeighbourKey> requesters;
};

// Why a received Seqno Request was not forwarded (counted by the core).
enum class ForwardDropReason {
  kHopCountTooLow,  // hop count < 2
  kNoRoute,         // no selected route to forward along
  kWouldGoBack,     // the selected route is through the requester
  kDuplicate,       // a pending request already covers it
};

struct ForwardResult {
  std::optional<OutgoingRequest> forward;  // set iff drop is empty
  std::optional<ForwardDropReason> drop;
};

struct RequestTrackerParams {
  Duration initial_timeout = kInitialRequestTimeout;  // doubled after each resend
  int max_resends = kMaxRequestResends;
};

class RequestTracker {
 public:
  explicit RequestTracker(RequestTrackerParams params = {}) : params_(params) {}

  // RFC 8966 §3.8.1.1: we ask for `destination` (to `neighbour`, or multicast).
  // Empty if the same request is already pending (not resent early).
  std::optional<OutgoingRequest> SendRouteRequest(const Destination& destination,
                                                  std::optional<NeighbourKey> neighbour,
                                                  Timestamp now);
  // RFC 8966 §3.8.2: we ask for a newer seqno ourselves (e.g. RouteTable's
  // SeqnoRequestNeeded). Empty if the same request is already pending.
  std::optional<OutgoingRequest> SendSeqnoRequest(const SeqnoRequest& request,
                                                  std::optional<NeighbourKey> neighbour,
                                                  Timestamp now);
  // RFC 8966 §3.8.1.2: `request` arrived from `from`; the caller already
  // checked that it is not for our own router-id and that our selected route
  // does not satisfy it. `selected` is the neighbour of the selected route.
  ForwardResult ForwardSeqnoRequest(const SeqnoRequest& request, const NeighbourKey& from,
                                    std::optional<NeighbourKey> selected, Timestamp now);

  // An Update was received or sent for its destination. It satisfies pending
  // Route Requests for the destination; and pending Seqno Requests when it is
  // a retraction, names another router-id, or has a seqno no older than the
  // one asked for (modulo 2^16). Satisfied entries are removed. A wildcard
  // Update satisfies nothing.
  std::vector<SatisfiedRequest> OnUpdate(const Update& update);

  // Resends requests whose timer fired; drops those out of resends.
  std::vector<OutgoingRequest> Tick(Timestamp now);
  // The earliest resend timer; Timestamp::Infinite() if nothing is pending.
  Timestamp NextDeadline() const;

  bool IsPending(const RequestKey& key) const { return pending_.contains(key); }
  size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    OutgoingRequest request;
    bool originated = false;
    std::set<NeighbourKey> requesters;
    int resends_left = 0;
    Duration timeout{0};
    Timestamp deadline;
  };
  using Map = std::map<RequestKey, Pending>;

  static RequestKey KeyOf(const SeqnoRequest& request);
  std::optional<OutgoingRequest> Start(const RequestKey& key, OutgoingRequest request,
                                       bool originated, Timestamp now);
  Pending* Covering(const SeqnoRequest& request);
  static bool Satisfies(const RequestKey& key, const Update& update);

  RequestTrackerParams params_;
  Map pending_;
};

}  // namespace plexus::babel
