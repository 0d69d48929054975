// The xroute table (RFC 8966 §3.2.6 "exported routes"): the prefixes this node
// originates, announced with its own router-id and its own seqno.
//
//   Add(destination, metric) ----> announce (new or changed metric)
//   Remove(destination) ----------> retract
//   OnSeqnoRequest(...) -----------> not ours | send update | bump seqno + send
//
// The node has one seqno for all its xroutes (RFC 8966 §3.7.2: "a node
// increases its sequence number"); its initial value is given by the caller.
// The seqno is only ever increased by one per Seqno Request (§3.8.1.2: "MUST
// NOT increase its sequence number by more than 1 in reaction to a single
// seqno request"), wrapping 0xFFFF to 0 (§3.2.1).
//
// Threading: not thread-safe; owned by the Babel core on the control thread.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "babel/metric.h"
#include "babel/route_table.h"
#include "babel/router_id.h"
#include "babel/seqno.h"

namespace plexus::babel {

enum class XrouteAction { kAnnounce, kRetract };

// What the core must send for one xroute: an Update with our router-id and
// seqno, with `metric` (announce) or infinity (retract).
struct XrouteOutput {
  XrouteAction action;
  Destination destination;
  Metric metric;  // Metric::Infinity() for a retraction
  RouterId router_id;
  Seqno seqno;
  bool operator==(const XrouteOutput&) const = default;
};

// RFC 8966 §3.8.1.2, for a Seqno Request that names one of our xroutes.
enum class XrouteSeqnoAnswer {
  kNotOurs,           // the destination is not an xroute: the route table decides
  kSendUpdate,        // our current seqno already satisfies the request
  kBumpAndSendUpdate  // our seqno was increased by one; announce every xroute
};

class XrouteTable {
 public:
  XrouteTable(RouterId router_id, Seqno initial_seqno)
      : router_id_(router_id), seqno_(initial_seqno) {}

  // Originates `destination` with `metric`. Returns an announcement when the
  // xroute is new or its metric changed, nothing when it is unchanged. An
  // infinite metric is treated as Remove.
  std::optional<XrouteOutput> Add(const Destination& destination, Metric metric = Metric(0));
  // Stops originating `destination`; a retraction if it was an xroute.
  std::optional<XrouteOutput> Remove(const Destination& destination);

  // RFC 8966 §3.8.1.2: a Seqno Request for `destination` asking for `router_id`
  // with a seqno of at least `seqno`. A request naming another router-id is
  // answered by an update (ours replaces it); one naming ours with a seqno
  // newer than ours makes us increase our seqno by exactly one.
  XrouteSeqnoAnswer OnSeqnoRequest(const Destination& destination, RouterId router_id, Seqno seqno);

  // The announcement of one xroute, or of all (a full update, §3.7.1).
  std::optional<XrouteOutput> Announcement(const Destination& destination) const;
  std::vector<XrouteOutput> Announcements() const;

  const Metric* Find(const Destination& destination) const;
  RouterId router_id() const { return router_id_; }
  Seqno seqno() const { return seqno_; }
  size_t size() const { return xroutes_.size(); }

 private:
  XrouteOutput Output(XrouteAction action, const Destination& destination, Metric metric) const {
    return {action, destination, metric, router_id_, seqno_};
  }

  RouterId router_id_;
  Seqno seqno_;
  std::map<Destination, Metric> xroutes_;
};

}  // namespace plexus::babel
