// LinkLiveness: notices at once when a mesh link's transport goes silent
// (DESIGN.md §2.5), instead of waiting for Babel to miss Hellos.
//
//   every authenticated packet received on a link --OnReceived--> last_received
//   every packet sent on it ------------------------OnSent------> last_sent
//   Tick: a link idle for probe_interval gets a probe (a WireGuard keepalive,
//         so the far end keeps hearing from us);
//         an up link silent for `timeout` goes down; the next packet brings it up.
//
//   kUnknown --received--> kUp --silent for timeout--> kDown --received--> kUp
//
// With probes every probe_interval from both ends, an up link is never silent
// for longer than probe_interval plus jitter, so `timeout` (a few probe
// intervals) is what a failure costs before traffic moves.
//
// Threading: not thread-safe; the node's control thread.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "base/time.h"

namespace plexus::node {

struct LivenessParams {
  Duration probe_interval = std::chrono::milliseconds(150);
  Duration timeout = std::chrono::milliseconds(600);
};

enum class LinkState : uint8_t { kUnknown, kUp, kDown };
std::string_view ToString(LinkState state);

struct LivenessEvents {
  std::vector<uint32_t> down;   // went silent: declare the link down
  std::vector<uint32_t> probe;  // send a keepalive
};

class LinkLiveness {
 public:
  explicit LinkLiveness(LivenessParams params) : params_(params) {}

  void AddLink(uint32_t link, Timestamp now);
  // Returns true when the link was not up before (it just came up).
  bool OnReceived(uint32_t link, Timestamp now);
  void OnSent(uint32_t link, Timestamp now);
  LivenessEvents Tick(Timestamp now);
  Timestamp NextDeadline() const;

  LinkState state(uint32_t link) const;
  // When the link last went down or came up; Timestamp() if never.
  Timestamp last_change(uint32_t link) const;

 private:
  struct Link {
    LinkState state = LinkState::kUnknown;
    Timestamp last_received;
    Timestamp last_sent;
    Timestamp last_change;
  };
  Timestamp ProbeDue(const Link& link) const { return link.last_sent + params_.probe_interval; }
  Timestamp DownDue(const Link& link) const;

  LivenessParams params_;
  std::map<uint32_t, Link> links_;
};

}  // namespace plexus::node
