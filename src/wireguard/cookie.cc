#include "wireguard/cookie.h"

#include "crypto/blake2s.h"
#include "wireguard/constants.h"

namespace plexus::wireguard {
namespace {

// HASH(label || static public key): the mac1 key and the cookie key.
crypto::Hash LabelKey(std::string_view label, const crypto::PublicKey& key) {
  return crypto::Blake2sHash({AsBytes(label), key.span()});
}

// MAC(key, message[0 .. message.size() - tail]): mac1 covers everything before
// mac1 (tail 32), mac2 everything before mac2 (tail 16).
Mac MacBefore(ByteSpan key, ByteSpan message, size_t tail) {
  Mac mac;
  crypto::Blake2sKeyed(mac, key, message.first(message.size() - tail));
  return mac;
}

constexpr size_t kMac1Tail = 2 * kMacSize;
constexpr size_t kMac2Tail = kMacSize;

ByteSpan Mac1Of(ByteSpan message) {
  return message.subspan(message.size() - kMac1Tail, kMacSize);
}
ByteSpan Mac2Of(ByteSpan message) {
  return message.subspan(message.size() - kMac2Tail, kMacSize);
}

}  // namespace

CookieChecker::CookieChecker(const crypto::PublicKey& local_static)
    : mac1_key_(LabelKey(kLabelMac1, local_static)),
      cookie_key_(ByteSpan(LabelKey(kLabelCookie, local_static))) {}

bool CookieChecker::SecretFresh(Timestamp now) const {
  return !secret_birth_.IsZero() && now - secret_birth_ < kCookieRefreshTime;
}

Cookie CookieChecker::MakeCookie(const Endpoint& source) const {
  // Any injective encoding of the address works: only this node checks it.
  ByteArray<18> src{};
  ByteSpan ip = source.address().bytes();
  std::memcpy(src.data(), ip.data(), ip.size());
  StoreBe16(src.data() + ip.size(), source.port());
  Cookie cookie;
  crypto::Blake2sKeyed(cookie, secret_.span(), ByteSpan(src).first(ip.size() + 2));
  return cookie;
}

MacState CookieChecker::Validate(ByteSpan message, const Endpoint& source, bool check_cookie,
                                 Timestamp now) {
  Mac mac1 = MacBefore(mac1_key_, message, kMac1Tail);
  if (!ConstantTimeEqual(mac1, Mac1Of(message))) return MacState::kInvalidMac1;
  if (!check_cookie || !SecretFresh(now)) return MacState::kValidMac1NoCookie;
  Cookie cookie = MakeCookie(source);
  Mac mac2 = MacBefore(cookie, message, kMac2Tail);
  if (!ConstantTimeEqual(mac2, Mac2Of(message))) return MacState::kValidMac1NoCookie;
  return MacState::kValidMac2;
}

MessageCookieReply CookieChecker::CreateReply(ByteSpan message, uint32_t sender_index,
                                              const Endpoint& source, Timestamp now,
                                              Random& random) {
  if (!SecretFresh(now)) {
    random.Fill(secret_.mutable_span());
    secret_birth_ = now;
  }
  MessageCookieReply reply{};
  SetHeader(reply.header, MessageType::kCookieReply);
  SetLe32(reply.receiver_index, sender_index);
  random.Fill(reply.nonce);
  Cookie cookie = MakeCookie(source);
  crypto::XChaChaPolySeal(reply.encrypted_cookie, cookie_key_, reply.nonce, cookie,
                          Mac1Of(message));
  return reply;
}

PeerCookie::PeerCookie(const crypto::PublicKey& peer_static)
    : mac1_key_(LabelKey(kLabelMac1, peer_static)),
      cookie_key_(ByteSpan(LabelKey(kLabelCookie, peer_static))) {}

bool PeerCookie::HasValidCookie(Timestamp now) const {
  return !cookie_birth_.IsZero() && now - cookie_birth_ < kCookieValidity;
}

void PeerCookie::AddMacs(MutableByteSpan message, Timestamp now) {
  last_mac1_sent_ = MacBefore(mac1_key_, message, kMac1Tail);
  std::memcpy(message.data() + message.size() - kMac1Tail, last_mac1_sent_.data(), kMacSize);
  have_sent_mac1_ = true;
  Mac mac2{};
  if (HasValidCookie(now)) mac2 = MacBefore(cookie_, message, kMac2Tail);
  std::memcpy(message.data() + message.size() - kMac2Tail, mac2.data(), kMacSize);
}

Verdict<bool> PeerCookie::ConsumeReply(const MessageCookieReply& reply, Timestamp now) {
  if (!have_sent_mac1_) return DropReason::kUnexpectedCookieReply;
  Cookie cookie;
  if (!crypto::XChaChaPolyOpen(cookie, cookie_key_, reply.nonce, reply.encrypted_cookie,
                               last_mac1_sent_)) {
    return DropReason::kCookieDecryptFailed;
  }
  cookie_ = cookie;
  cookie_birth_ = now;
  have_sent_mac1_ = false;
  return true;
}

}  // namespace plexus::wireguard
