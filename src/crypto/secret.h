// Secret<N>: N bytes of key material that is move-only and wipes itself
// (STYLE.md rule 15). Never log one; there is deliberately no formatter.
#pragma once

#include <sodium.h>

#include <cstddef>
#include <span>

#include "base/bytes.h"

namespace plexus::crypto {

template <size_t N>
class Secret {
 public:
  Secret() = default;
  // Copies `bytes`; when bytes.size() != N the secret stays all zeros (check
  // IsZero() if the size is not known to be N).
  explicit Secret(ByteSpan bytes) {
    if (bytes.size() == N) std::memcpy(b_.data(), bytes.data(), N);
  }
  ~Secret() { Wipe(); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& o) noexcept : b_(o.b_) { o.Wipe(); }
  Secret& operator=(Secret&& o) noexcept {
    if (this != &o) {
      b_ = o.b_;
      o.Wipe();
    }
    return *this;
  }

  // An explicit copy, for the few places that must duplicate a secret.
  Secret Clone() const { return Secret(ByteSpan(b_)); }

  void Wipe() { sodium_memzero(b_.data(), N); }
  bool IsZero() const { return sodium_is_zero(U8(ByteSpan(b_)), N) == 1; }

  std::span<const std::byte, N> span() const { return b_; }
  std::span<std::byte, N> mutable_span() { return b_; }
  const std::byte* data() const { return b_.data(); }
  std::byte* data() { return b_.data(); }
  static constexpr size_t size() { return N; }

 private:
  ByteArray<N> b_{};
};

}  // namespace plexus::crypto
