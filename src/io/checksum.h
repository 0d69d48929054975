// The Internet checksum (RFC 1071), its incremental update (RFC 1624) and the
// TCP/UDP pseudo-header sums, as used by the TUN offloads (io/offload.h).
//
// Sums are computed over native 32-bit lanes of 16-byte vectors and folded at
// the end (RFC 1071 §2(B) byte-order independence, §2(C) deferred carries);
// CopyAndSum does the same while copying, so a segment's payload is read once.
//
// Thread use: all functions are pure and reentrant.
#pragma once

#include <cstdint>

#include "base/bytes.h"

namespace plexus::io {

// Ones'-complement sum of `data` as big-endian 16-bit words (an odd last byte
// is padded with zero, RFC 1071 §4.1), added to `initial`, folded to 16 bits.
// Not complemented: this is the partial sum that can be chained. The result is
// 0 only if `data` and `initial` are all zero.
uint16_t OnesComplementSum(ByteSpan data, uint16_t initial = 0);

// Copies `source` to the front of `destination` (which must be at least as
// long and must not overlap it) and returns OnesComplementSum(source, initial),
// reading each byte once.
uint16_t CopyAndSum(MutableByteSpan destination, ByteSpan source, uint16_t initial = 0);

// Ones'-complement addition of two partial sums (RFC 1071 §2(A)). Chaining
// sums of spans is equal to summing their concatenation when each span but the
// last has even length.
uint16_t AddOnesComplement(uint16_t a, uint16_t b);

// The checksum to store in a header: ~OnesComplementSum(data, initial).
inline uint16_t InternetChecksum(ByteSpan data, uint16_t initial = 0) {
  return static_cast<uint16_t>(~OnesComplementSum(data, initial));
}

// RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data
// changed from `old_word` to `new_word`: HC' = ~(~HC + ~m + m').
uint16_t UpdateChecksum16(uint16_t checksum, uint16_t old_word, uint16_t new_word);
// The same for a 32-bit field (two words), e.g. a TCP sequence number.
uint16_t UpdateChecksum32(uint16_t checksum, uint32_t old_value, uint32_t new_value);

// Folded, uncomplemented sum of the TCP/UDP pseudo-header: RFC 9293 §3.1 and
// RFC 768 for IPv4 (src, dst, zero, protocol, 16-bit length), RFC 8200 §8.1 for
// IPv6 (src, dst, 32-bit length, zeros, next header). `source` and
// `destination` are 4 or 16 bytes. This is also the value the kernel expects
// in the checksum field of a VIRTIO_NET_HDR_F_NEEDS_CSUM packet.
uint16_t PseudoHeaderSum(ByteSpan source, ByteSpan destination, uint8_t protocol, uint32_t length);

}  // namespace plexus::io
