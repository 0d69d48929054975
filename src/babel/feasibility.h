// FeasibilityDistance and the feasibility condition (RFC 8966 §3.5.1, §2.4).
//
// A source's feasibility distance is the best (seqno, metric) pair this node
// has advertised for it (§3.2.5, §3.7.3). An update received for that source
// is feasible iff it is a retraction or its (seqno, metric) is strictly better
// than the feasibility distance in the lexicographic order of §3.5.1:
//
//   (s, m) better than (s', m')  iff  s newer than s' (modulo 2^16, §3.2.1)
//                                     or s == s' and m < m'.
//
// Seqnos 2^15 apart are incomparable (Seqno has no total order), so an update
// whose seqno is exactly 2^15 away from the source's is never feasible unless
// it is a retraction.
//
// Threading: value types and pure functions; any thread.
#pragma once

#include <optional>
#include <string>

#include "babel/metric.h"
#include "babel/seqno.h"

namespace plexus::babel {

struct FeasibilityDistance {
  Seqno seqno;
  Metric metric;
  bool operator==(const FeasibilityDistance&) const = default;
  std::string ToString() const { return "(" + seqno.ToString() + ", " + metric.ToString() + ")"; }
};

// RFC 8966 §3.5.1: `a` is strictly better than `b`.
constexpr bool IsStrictlyBetter(FeasibilityDistance a, FeasibilityDistance b) {
  return a.seqno.IsNewerThan(b.seqno) || (a.seqno == b.seqno && a.metric < b.metric);
}

// RFC 8966 §3.5.1: the feasibility condition for an update carrying `seqno`
// and advertised `metric` (the metric in the Update TLV, not the metric after
// adding the link cost) for a source whose feasibility distance is
// `distance`; nullopt means the source table has no entry, which makes every
// update feasible.
constexpr bool IsFeasible(Seqno seqno, Metric metric,
                          const std::optional<FeasibilityDistance>& distance) {
  if (metric.IsInfinite() || !distance) return true;
  return IsStrictlyBetter({seqno, metric}, *distance);
}

}  // namespace plexus::babel
