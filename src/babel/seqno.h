// Seqno: a 16-bit Babel sequence number compared modulo 2^16 (RFC 8966 §3.2.1).
#pragma once

#include <cstdint>
#include <string>

namespace plexus::babel {

// RFC 8966 §3.2.1: s1 < s2 iff 0 < ((s2 - s1) mod 2^16) < 2^15.
//
// This is NOT a total order: it is not transitive (0 < 0x4000 < 0x8000 < 0xC000
// < 0), and two seqnos exactly 2^15 apart are incomparable (neither is less).
// Never use Seqno as a key of an ordered container or sort by it.
class Seqno {
 public:
  constexpr Seqno() = default;
  constexpr explicit Seqno(uint16_t value) : value_(value) {}

  constexpr uint16_t value() const { return value_; }

  // True iff `this` is strictly newer than `other` (other < this, modulo 2^16).
  constexpr bool IsNewerThan(Seqno other) const {
    const uint16_t d = static_cast<uint16_t>(value_ - other.value_);
    return d != 0 && d < 0x8000;
  }

  // The next seqno, wrapping 0xFFFF to 0 (RFC 8966 §3.2.1 "incremented modulo 2^16").
  constexpr Seqno Next() const { return Seqno(static_cast<uint16_t>(value_ + 1)); }
  constexpr Seqno& operator++() {
    *this = Next();
    return *this;
  }
  // `this` plus n modulo 2^16 (e.g. a Seqno Request asking for seqno + 1).
  constexpr Seqno Plus(uint16_t n) const { return Seqno(static_cast<uint16_t>(value_ + n)); }

  friend constexpr bool operator==(Seqno a, Seqno b) = default;
  // Modular comparison; see the class comment (no total order).
  friend constexpr bool operator<(Seqno a, Seqno b) { return b.IsNewerThan(a); }
  friend constexpr bool operator>(Seqno a, Seqno b) { return a.IsNewerThan(b); }
  friend constexpr bool operator<=(Seqno a, Seqno b) { return a == b || a < b; }
  friend constexpr bool operator>=(Seqno a, Seqno b) { return a == b || a > b; }

  std::string ToString() const { return std::to_string(value_); }

 private:
  uint16_t value_ = 0;
};

}  // namespace plexus::babel
