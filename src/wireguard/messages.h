// WireGuard wire formats (whitepaper §5.4, protocol page "Messages").
//
// Every multi-byte integer is little-endian. Each message starts with a
// 4-byte header: the type in byte 0 and three reserved zero bytes; the header
// is compared as one little-endian u32, so nonzero reserved bytes make the
// type unknown (as the kernel module and wireguard-go do).
//
// Handshake initiation (type 1), 148 bytes:
//   0  type=1 | 0 | 0 | 0
//   4  sender_index           u32
//   8  unencrypted_ephemeral  32
//  40  encrypted_static       32 + 16 tag
//  88  encrypted_timestamp    12 + 16 tag   (TAI64N)
// 116  mac1                   16
// 132  mac2                   16
//
// Handshake response (type 2), 92 bytes:
//   0  type=2 | 0 | 0 | 0
//   4  sender_index           u32
//   8  receiver_index         u32
//  12  unencrypted_ephemeral  32
//  44  encrypted_nothing      0 + 16 tag
//  60  mac1                   16
//  76  mac2                   16
//
// Cookie reply (type 3), 64 bytes:
//   0  type=3 | 0 | 0 | 0
//   4  receiver_index         u32
//   8  nonce                  24
//  32  encrypted_cookie       16 + 16 tag
//
// Transport data (type 4), 32 + n bytes (n a multiple of 16, see keypair.h):
//   0  type=4 | 0 | 0 | 0
//   4  receiver_index         u32
//   8  counter                u64
//  16  encrypted_packet       n + 16 tag
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/x25519.h"
#include "wireguard/drop_reason.h"

namespace plexus::wireguard {

enum class MessageType : uint8_t {
  kInitiation = 1,
  kResponse = 2,
  kCookieReply = 3,
  kTransport = 4,
};

inline constexpr size_t kTimestampSize = 12;  // TAI64N
inline constexpr size_t kCookieSize = 16;
inline constexpr size_t kCookieNonceSize = crypto::kXNonceSize;
inline constexpr size_t kMacSize = crypto::kMacSize;
inline constexpr size_t kTagSize = crypto::kAeadTagSize;

using Le32 = ByteArray<4>;

struct MessageInitiation {
  ByteArray<4> header;
  Le32 sender_index;
  ByteArray<crypto::kKeySize> ephemeral;
  ByteArray<crypto::kKeySize + kTagSize> encrypted_static;
  ByteArray<kTimestampSize + kTagSize> encrypted_timestamp;
  ByteArray<kMacSize> mac1;
  ByteArray<kMacSize> mac2;
};

struct MessageResponse {
  ByteArray<4> header;
  Le32 sender_index;
  Le32 receiver_index;
  ByteArray<crypto::kKeySize> ephemeral;
  ByteArray<kTagSize> encrypted_nothing;
  ByteArray<kMacSize> mac1;
  ByteArray<kMacSize> mac2;
};

struct MessageCookieReply {
  ByteArray<4> header;
  Le32 receiver_index;
  ByteArray<kCookieNonceSize> nonce;
  ByteArray<kCookieSize + kTagSize> encrypted_cookie;
};

struct MessageTransportHeader {
  ByteArray<4> header;
  Le32 receiver_index;
  ByteArray<8> counter;
};

static_assert(sizeof(MessageInitiation) == 148);
static_assert(sizeof(MessageResponse) == 92);
static_assert(sizeof(MessageCookieReply) == 64);
static_assert(sizeof(MessageTransportHeader) == 16);

inline constexpr size_t kTransportHeaderSize = sizeof(MessageTransportHeader);
// A keepalive: header + the tag of an empty plaintext.
inline constexpr size_t kTransportMinimumSize = kTransportHeaderSize + kTagSize;
// Bytes a transport message adds around a padded plaintext.
inline constexpr size_t kTransportOverhead = kTransportHeaderSize + kTagSize;

inline uint32_t GetLe32(const Le32& f) {
  return LoadLe32(f.data());
}
inline void SetLe32(Le32& f, uint32_t v) {
  StoreLe32(f.data(), v);
}
// Writes the 4-byte header (type, three zeros).
inline void SetHeader(ByteArray<4>& h, MessageType type) {
  h = {static_cast<std::byte>(type), std::byte{0}, std::byte{0}, std::byte{0}};
}

// Bytes of a message as a span (all message structs are arrays of bytes, so
// they have no padding and alignment 1).
template <typename M>
ByteSpan AsSpan(const M& m) {
  return ByteSpan(reinterpret_cast<const std::byte*>(&m), sizeof m);
}
template <typename M>
MutableByteSpan AsMutableSpan(M& m) {
  return MutableByteSpan(reinterpret_cast<std::byte*>(&m), sizeof m);
}

// Reads the header of `datagram` and checks that its size fits the type:
// exact sizes for types 1-3, at least kTransportMinimumSize for type 4.
Verdict<MessageType> ClassifyDatagram(ByteSpan datagram);

// Copies a datagram whose type ClassifyDatagram accepted into a message
// struct. `datagram.size()` must equal sizeof(M).
template <typename M>
M CopyMessage(ByteSpan datagram) {
  M m;
  std::memcpy(&m, datagram.data(), sizeof m);
  return m;
}

}  // namespace plexus::wireguard
