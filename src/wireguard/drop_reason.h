// Every reason this WireGuard core drops a datagram (STYLE.md rule 12).
//
// The node counts drops per reason; ToString gives the snake_case name used as
// the JSON key in `plexus status --json`, so names are stable once released.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>

namespace plexus::wireguard {

enum class DropReason : uint8_t {
  // Framing (messages.h).
  kTooShort,            // shorter than the 4-byte type field
  kUnknownType,         // type not 1..4, or reserved bytes not zero
  kBadInitiationSize,   // type 1 but not 148 bytes
  kBadResponseSize,     // type 2 but not 92 bytes
  kBadCookieReplySize,  // type 3 but not 64 bytes
  kBadTransportSize,    // type 4 but shorter than header + tag
  // MACs and cookies (cookie.h, whitepaper §5.4.4, §5.4.7).
  kBadMac1,
  kCookieRequired,         // under load and mac2 missing or wrong: a cookie reply was sent
  kRateLimited,            // under load and the source exceeded its handshake rate
  kUnexpectedCookieReply,  // no handshake message with that receiver index awaits a cookie
  kCookieDecryptFailed,
  // Handshake (noise.h, whitepaper §5.4.2, §5.4.3).
  kHandshakeDecryptFailed,
  kUnknownPeer,         // initiation from a static key that is not a configured peer
  kStaleTimestamp,      // initiation timestamp not newer than the last one (replay)
  kHandshakeFlood,      // initiations from this peer faster than kInitiationsPerSecond
  kUnexpectedResponse,  // response whose receiver index matches no pending initiation
  kBadPublicKey,        // a DH result was all zeros (low-order point)
  // Transport data (keypair.h, whitepaper §5.4.6).
  kUnknownReceiverIndex,
  kKeypairExpired,    // keypair older than REJECT_AFTER_TIME
  kCounterExhausted,  // counter >= REJECT_AFTER_MESSAGES
  kDecryptFailed,
  kReplay,          // counter already seen or behind the window
  kBufferTooSmall,  // caller's output buffer cannot hold the result
  kNoEndpoint,      // nowhere to send (peer endpoint unknown)
  kNoKeypair,       // no valid sending keypair
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kNoKeypair) + 1;

// snake_case name of `r`, e.g. "bad_mac1".
std::string_view ToString(DropReason r);

// A value or the reason the datagram was dropped; the packet-path analogue of
// Result<T> (no string, no allocation).
template <typename T>
class [[nodiscard]] Verdict {
 public:
  Verdict(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Verdict(DropReason reason) : v_(reason) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  // Only when !ok().
  DropReason reason() const { return std::get<1>(v_); }

 private:
  std::variant<T, DropReason> v_;
};

}  // namespace plexus::wireguard
