// The anti-replay sliding window of RFC 6479 as WireGuard uses it
// (whitepaper §5.4.6): a ring of kBitsTotal bits in 64-bit blocks, of which
// kWindowSize bits behind the highest accepted counter are usable (one block
// is the redundant block RFC 6479 §2 keeps so advancing clears whole blocks).
//
// Contract: CheckAndUpdate is called only AFTER the message authenticated
// (whitepaper §5.4.6), so forged counters never move the window.
//
// Threading: not thread-safe; keypair.h guards each window with a lock.
#pragma once

#include <array>
#include <cstdint>

namespace plexus::wireguard {

class ReplayWindow {
 public:
  static constexpr uint64_t kBlockBits = 64;
  static constexpr uint64_t kBitsTotal = 2048;
  static constexpr uint64_t kBlocks = kBitsTotal / kBlockBits;
  static constexpr uint64_t kWindowSize = kBitsTotal - kBlockBits;

  // Returns true and records `counter` when it is acceptable: below
  // REJECT_AFTER_MESSAGES, not seen before, and newer than the highest
  // accepted counter or less than kWindowSize behind it.
  [[nodiscard]] bool CheckAndUpdate(uint64_t counter);

  // Forgets everything (a fresh window).
  void Reset();

 private:
  // Clears the blocks after the highest accepted counter's block up to and
  // including the block of `counter`, which becomes the highest.
  void AdvanceTo(uint64_t counter);
  bool TestAndSet(uint64_t counter);

  // One past the highest accepted counter; 0 when nothing was accepted.
  uint64_t end_ = 0;
  std::array<uint64_t, kBlocks> blocks_{};
};

}  // namespace plexus::wireguard
