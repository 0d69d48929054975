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
// Only a far end that probes can be judged this way. A standard WireGuard
// peer (wireguard-go with a babeld, say) sends keepalives every few seconds at
// most, and its link is left to Babel's own Hello and IHU timers. A link
// becomes "probed" (for its lifetime) once kProberKeepalives keepalives
// arrived from the far end no more than 2 x probe_interval apart, which no
// standard peer does (wg(8)'s shortest persistent keepalive is 1 s).
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
  void RemoveLink(uint32_t link) { links_.erase(link); }
  // Something authenticated arrived; `keepalive_only` when it was nothing
  // but one WireGuard keepalive (a probe of the far end). Returns true when
  // the link was not up before (it just came up).
  bool OnReceived(uint32_t link, Timestamp now, bool keepalive_only = false);
  void OnSent(uint32_t link, Timestamp now);
  LivenessEvents Tick(Timestamp now);
  Timestamp NextDeadline() const;

  LinkState state(uint32_t link) const;
  // Whether the far end probes, so silence means failure (see above).
  bool probed(uint32_t link) const;
  // When the link last went down or came up; Timestamp() if never.
  Timestamp last_change(uint32_t link) const;

 private:
  struct Link {
    LinkState state = LinkState::kUnknown;
    Timestamp last_received;
    Timestamp last_sent;
    Timestamp last_change;
    Timestamp last_keepalive;
    int close_keepalives = 0;  // in a row, each within 2 x probe_interval of the last
    bool probed = false;
  };
  static constexpr int kProberKeepalives = 3;
  void CountKeepalive(Link& link, Timestamp now) const;
  Timestamp ProbeDue(const Link& link) const { return link.last_sent + params_.probe_interval; }
  Timestamp DownDue(const Link& link) const;

  LivenessParams params_;
  std::map<uint32_t, Link> links_;
};

}  // namespace plexus::node
