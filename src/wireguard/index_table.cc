#include "wireguard/index_table.h"

namespace plexus::wireguard {

uint32_t IndexTable::Insert(Peer* peer, Random& random) {
  for (;;) {
    uint32_t index = random.NextU32();
    if (index != 0 && map_.emplace(index, peer).second) return index;
  }
}

}  // namespace plexus::wireguard
