#include "wireguard/replay_window.h"

#include <algorithm>

#include "wireguard/constants.h"

namespace plexus::wireguard {

bool ReplayWindow::CheckAndUpdate(uint64_t counter) {
  if (counter >= kRejectAfterMessages) return false;
  if (counter >= end_) {
    AdvanceTo(counter);
  } else if (end_ - 1 - counter >= kWindowSize) {
    return false;  // too far behind: its bit may already be reused
  }
  return TestAndSet(counter);
}

void ReplayWindow::Reset() {
  end_ = 0;
  blocks_.fill(0);
}

void ReplayWindow::AdvanceTo(uint64_t counter) {
  uint64_t first = end_ == 0 ? 0 : (end_ - 1) / kBlockBits + 1;
  uint64_t last = counter / kBlockBits;
  if (last >= first) {
    uint64_t n = std::min(last - first + 1, kBlocks);
    for (uint64_t i = 0; i < n; ++i) blocks_[(first + i) % kBlocks] = 0;
  }
  end_ = counter + 1;
}

bool ReplayWindow::TestAndSet(uint64_t counter) {
  uint64_t& block = blocks_[(counter / kBlockBits) % kBlocks];
  uint64_t bit = uint64_t{1} << (counter % kBlockBits);
  if (block & bit) return false;
  block |= bit;
  return true;
}

}  // namespace plexus::wireguard
