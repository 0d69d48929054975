// PeerSlot: the per-peer state the data-plane workers share with the control
// thread: byte counters, the queue of packets staged while no keypair exists,
// and the throttles that keep worker->control events bounded.
//
// THREADING: one PeerSlot per configured peer, created by the control thread
// before the workers start and alive until they stop (the Node owns them in a
// vector of unique_ptr; snapshots refer to them by index). Atomics are
// written by the workers and read by the control thread; `staged` is guarded
// by `staged_mutex`.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>

#include "base/bytes.h"
#include "crypto/x25519.h"

namespace plexus::node {

// Packets kept per peer while a handshake is under way (the kernel module keeps 128).
inline constexpr size_t kMaxStagedPackets = 128;

struct PeerSlot {
  explicit PeerSlot(const crypto::PublicKey& key) : public_key(key) {}

  const crypto::PublicKey public_key;

  // Whole transport messages, as `wg show` counts them.
  std::atomic<uint64_t> rx_bytes{0};
  std::atomic<uint64_t> tx_bytes{0};
  std::atomic<uint64_t> rx_packets{0};
  std::atomic<uint64_t> tx_packets{0};

  // Last time (monotonic ns) a worker reported an event of each kind to the
  // control thread; events closer together than kEventInterval are merged.
  std::atomic<int64_t> last_sent_event_ns{0};
  std::atomic<int64_t> last_received_event_ns{0};
  // Set by the TX worker when it stages a packet and asks for a handshake;
  // cleared by the control thread once it has handled the request.
  std::atomic<bool> queue_reported{false};

  std::mutex staged_mutex;
  std::deque<Bytes> staged;  // guarded by staged_mutex; oldest first

  // Queues a copy of `packet` until a keypair exists, dropping the oldest
  // beyond kMaxStagedPackets; returns true when one was dropped. Any thread.
  bool Stage(ByteSpan packet) {
    std::lock_guard lock(staged_mutex);
    const bool overflow = staged.size() >= kMaxStagedPackets;
    if (overflow) staged.pop_front();
    staged.emplace_back(packet.begin(), packet.end());
    return overflow;
  }
};

}  // namespace plexus::node
