// The receiver-index table (whitepaper §5.4.2: "sender index", a random
// 32-bit value per handshake, kept by the keypair the handshake becomes).
// Maps each local index in use to the Peer that owns it; the peer tells
// whether the index is its handshake's or one of its keypairs'.
//
// Threading: control thread only (the data plane looks indices up in the
// snapshot the node builds from Device::Keypairs()).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "base/random.h"

namespace plexus::wireguard {

class Peer;

class IndexTable {
 public:
  // Reserves a fresh random index for `peer`: nonzero (0 means "none" in
  // Handshake) and not in use.
  uint32_t Insert(Peer* peer, Random& random);
  void Remove(uint32_t index) { map_.erase(index); }
  Peer* Lookup(uint32_t index) const {
    auto it = map_.find(index);
    return it == map_.end() ? nullptr : it->second;
  }
  size_t size() const { return map_.size(); }

 private:
  std::unordered_map<uint32_t, Peer*> map_;
};

}  // namespace plexus::wireguard
