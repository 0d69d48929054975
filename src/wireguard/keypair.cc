#include "wireguard/keypair.h"

#include <algorithm>
#include <cstring>

#include "wireguard/constants.h"

namespace plexus::wireguard {

Keypair::Keypair(SessionKeys keys, uint32_t local_index, uint32_t remote_index, bool initiator,
                 Timestamp created, const crypto::PublicKey& peer)
    : send_key_(std::move(keys.send)),
      receive_key_(std::move(keys.receive)),
      local_index_(local_index),
      remote_index_(remote_index),
      initiator_(initiator),
      created_(created),
      peer_(peer) {}

size_t Keypair::PaddedSize(size_t n, size_t mtu) {
  size_t padded = (n + kPaddingMultiple - 1) / kPaddingMultiple * kPaddingMultiple;
  return std::max(n, std::min(padded, mtu));
}

bool Keypair::Expired(Timestamp now) const {
  return !valid() || now - created_ >= kRejectAfterTime;
}

Verdict<size_t> Keypair::Seal(MutableByteSpan out, ByteSpan plaintext, size_t mtu, Timestamp now) {
  size_t padded = PaddedSize(plaintext.size(), mtu);
  if (out.size() < MessageSize(padded)) return DropReason::kBufferTooSmall;
  if (Expired(now)) return DropReason::kKeypairExpired;
  uint64_t counter = NextSendCounter();
  if (counter >= kRejectAfterMessages) return DropReason::kCounterExhausted;

  std::byte* body = out.data() + kTransportHeaderSize;
  if (plaintext.data() != body && !plaintext.empty()) {
    std::memmove(body, plaintext.data(), plaintext.size());
  }
  std::memset(body + plaintext.size(), 0, padded - plaintext.size());
  StoreLe32(out.data(), static_cast<uint32_t>(MessageType::kTransport));
  StoreLe32(out.data() + 4, remote_index_);
  StoreLe64(out.data() + 8, counter);
  crypto::ChaChaPolySeal(out.subspan(kTransportHeaderSize, padded + kTagSize), send_key_, counter,
                         ByteSpan(body, padded), {});
  return MessageSize(padded);
}

Verdict<size_t> Keypair::Open(MutableByteSpan out, ByteSpan datagram, Timestamp now) {
  if (datagram.size() < kTransportMinimumSize) return DropReason::kBadTransportSize;
  size_t length = datagram.size() - kTransportOverhead;
  if (out.size() < length) return DropReason::kBufferTooSmall;
  if (Expired(now)) return DropReason::kKeypairExpired;
  uint64_t counter = LoadLe64(datagram.data() + 8);
  if (counter >= kRejectAfterMessages) return DropReason::kCounterExhausted;
  if (!crypto::ChaChaPolyOpen(out.first(length), receive_key_, counter,
                              datagram.subspan(kTransportHeaderSize), {})) {
    return DropReason::kDecryptFailed;
  }
  std::lock_guard lock(replay_mutex_);
  if (!replay_window_.CheckAndUpdate(counter)) return DropReason::kReplay;
  return length;
}

}  // namespace plexus::wireguard
