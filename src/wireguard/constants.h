// WireGuard protocol constants (STYLE.md rule 3).
//
// The "specification" block is the whitepaper's table (§6.1, "Preliminaries"
// of §6, and §5.4) and the protocol page's construction strings; changing one
// breaks interoperability with wireguard-go and the kernel module. The
// "implementation" block holds this implementation's own choices, taken from
// the kernel module where it has one (messages.h, timers.c, ratelimiter.c).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/time.h"

namespace plexus::wireguard {

// ---- Specification -------------------------------------------------------

// Noise protocol name and WireGuard prologue (whitepaper §5.4, protocol page).
inline constexpr std::string_view kConstruction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
inline constexpr std::string_view kIdentifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
// Labels of the MAC1 key and of the cookie-reply key (whitepaper §5.4.4, §5.4.7).
inline constexpr std::string_view kLabelMac1 = "mac1----";
inline constexpr std::string_view kLabelCookie = "cookie--";

// Whitepaper §6.1 (timers) and §5.4.6 (message counters).
inline constexpr uint64_t kRekeyAfterMessages = uint64_t{1} << 60;
inline constexpr uint64_t kRejectAfterMessages =
    UINT64_MAX - (uint64_t{1} << 13);  // 2^64 - 2^13 - 1
inline constexpr std::chrono::seconds kRekeyAfterTime{120};
inline constexpr std::chrono::seconds kRejectAfterTime{180};
inline constexpr std::chrono::seconds kRekeyAttemptTime{90};
inline constexpr std::chrono::seconds kRekeyTimeout{5};
inline constexpr std::chrono::seconds kKeepaliveTimeout{10};
// Whitepaper §5.4.7: the responder's cookie secret changes every two minutes.
inline constexpr std::chrono::seconds kCookieRefreshTime{120};

// ---- Implementation ------------------------------------------------------

// Random jitter added to handshake retransmissions and to the new-handshake
// timer (kernel REKEY_TIMEOUT_JITTER_MAX_JIFFIES = HZ / 3).
inline constexpr std::chrono::milliseconds kRekeyTimeoutJitterMax{333};
// Retransmissions before giving up: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT (§6.4).
inline constexpr int kMaxTimerHandshakes = kRekeyAttemptTime / kRekeyTimeout;
// A received cookie is used for mac2 this long; 5 s less than the secret's
// lifetime so it is not used against a secret that has just rotated (kernel
// COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY).
inline constexpr std::chrono::seconds kCookieSecretLatency{5};
inline constexpr Duration kCookieValidity = kCookieRefreshTime - kCookieSecretLatency;
// Per-peer flood protection: at most this many initiations consumed per second
// (kernel INITIATIONS_PER_SECOND). Also sets the TAI64N rounding: timestamps
// are rounded down to a power-of-two number of nanoseconds <= 1 s / 50.
inline constexpr int kInitiationsPerSecond = 50;
inline constexpr uint32_t kTimestampNanosMask = ~uint32_t{(1u << 24) - 1};  // 2^24 ns ~ 16.8 ms
// Handshake rate limit per source address under load (kernel ratelimiter.c).
inline constexpr int kHandshakesPerSecond = 20;
inline constexpr int kHandshakeBurst = 5;
inline constexpr size_t kRateLimiterMaxEntries = 65536;
// Packets the node should stage per peer while a handshake is in flight
// (kernel MAX_STAGED_PACKETS).
inline constexpr size_t kMaxStagedPackets = 128;
// Transport plaintext is zero-padded to a multiple of this (whitepaper §5.4.6).
inline constexpr size_t kPaddingMultiple = 16;

}  // namespace plexus::wireguard
