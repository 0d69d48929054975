// The immutable view of peers and sessions the data-plane workers route and
// encrypt with (DESIGN.md §3). The control thread builds a new Snapshot
// whenever a keypair or endpoint changes and publishes it in a
// SnapshotHolder; a worker loads the current one once per batch. Nothing in a
// Snapshot changes after publication, so workers read it without locks
// (Keypair's own atomics and replay lock are its business, see keypair.h).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/ip.h"
#include "node/allowed_ips.h"
#include "node/forwarding_table.h"
#include "node/peer_slot.h"
#include "wireguard/keypair.h"

namespace plexus::node {

struct PeerView {
  PeerSlot* slot = nullptr;                     // outlives every snapshot
  std::shared_ptr<wireguard::Keypair> sending;  // null: none valid, stage and ask
  std::optional<Endpoint> endpoint;
  // Configured without allowed_prefixes: a mesh link, whose inner packets may
  // carry any source (the routing table decides where they go). Otherwise a
  // static/WireGuard leaf, held to its allowed_prefixes.
  bool mesh = false;
  // False for a mesh link whose peer has not (or no longer) shown a valid
  // certificate (DESIGN.md §2.3): only link control passes, either way.
  bool authorised = true;
};

struct ReceivingKeypair {
  std::shared_ptr<wireguard::Keypair> keypair;
  uint32_t peer = 0;  // index into Snapshot::peers
};

struct Snapshot {
  // Source prefix -> index into `peers`: the inbound check of static peers.
  // Shared between snapshots: it changes only with the configuration.
  std::shared_ptr<const AllowedIps> allowed_ips;
  // Where packets go (DESIGN.md §2.6). Never null.
  std::shared_ptr<const ForwardingTable> forwarding;
  // Source addresses of the ICMP errors the node sends, per family; nullopt:
  // the node has no address of that family, and sends no such errors.
  std::optional<IpAddress> icmp_source_v6;
  std::optional<IpAddress> icmp_source_v4;
  std::vector<PeerView> peers;
  // Keeps every PeerSlot in `peers` alive while this snapshot is.
  std::vector<std::shared_ptr<PeerSlot>> slots;
  std::unordered_map<uint32_t, ReceivingKeypair> by_receiver_index;
};

// Holds the current snapshot. Publish() from the control thread, Load() from
// any. A mutex held only to copy the pointer (workers load once per batch, so
// it is uncontended); libstdc++ 12's std::atomic<std::shared_ptr> would do the
// same with a spin bit that ThreadSanitizer cannot see.
class SnapshotHolder {
 public:
  void Publish(std::shared_ptr<const Snapshot> s) {
    std::lock_guard lock(mutex_);
    current_.swap(s);
    // The old snapshot (now in `s`) is released after the lock.
  }
  std::shared_ptr<const Snapshot> Load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> current_;  // guarded by mutex_
};

}  // namespace plexus::node
