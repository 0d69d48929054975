// MAC1/MAC2 and cookie replies: WireGuard's DoS mitigation (whitepaper
// §5.3 and §5.4.7, protocol page "Cookie MACs").
//
//   every handshake message:  mac1 = MAC(HASH(LABEL_MAC1 || receiver static), msg[..mac1])
//                             mac2 = MAC(cookie, msg[..mac2]) or zeros
//   responder under load, mac2 wrong:  cookie = MAC(Rm, source ip||port), Rm
//     random and replaced every COOKIE_REFRESH_TIME; reply type 3 carries
//     XAEAD(HASH(LABEL_COOKIE || responder static), nonce, cookie, mac1)
//   initiator: stores the cookie and uses it for mac2 until it is
//     kCookieValidity old; the next retransmission carries it.
//
// Threading: control thread only.
#pragma once

#include <optional>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/random.h"
#include "base/time.h"
#include "crypto/aead.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "wireguard/drop_reason.h"
#include "wireguard/messages.h"

namespace plexus::wireguard {

using Mac = ByteArray<kMacSize>;
using Cookie = ByteArray<kCookieSize>;

// The verdict on a handshake message's MACs (kernel enum cookie_mac_state).
enum class MacState : uint8_t {
  kInvalidMac1,
  kValidMac1NoCookie,  // mac1 fine; mac2 absent, wrong, or not checked
  kValidMac2,          // mac1 and mac2 both fine
};

// Responder side: one per Device, keyed by the local static public key.
class CookieChecker {
 public:
  explicit CookieChecker(const crypto::PublicKey& local_static);

  // Checks the MACs of `message` (a whole type 1 or type 2 message) received
  // from `source`. mac2 is checked only when `check_cookie` (under load).
  MacState Validate(ByteSpan message, const Endpoint& source, bool check_cookie, Timestamp now);

  // A cookie reply to `message` (type 1 or 2) from `source`, whose sender
  // index was `sender_index`. Rotates the secret when it is older than
  // COOKIE_REFRESH_TIME.
  MessageCookieReply CreateReply(ByteSpan message, uint32_t sender_index, const Endpoint& source,
                                 Timestamp now, Random& random);

 private:
  Cookie MakeCookie(const Endpoint& source) const;
  bool SecretFresh(Timestamp now) const;

  crypto::Hash mac1_key_;
  crypto::AeadKey cookie_key_;
  crypto::Secret<crypto::kHashSize> secret_;
  Timestamp secret_birth_;  // zero: no secret yet
};

// Initiator side (and responder side for responses): one per peer, keyed by
// the peer's static public key.
class PeerCookie {
 public:
  explicit PeerCookie(const crypto::PublicKey& peer_static);

  // Fills mac1 and mac2 of `message` (a whole type 1 or type 2 message about
  // to be sent to this peer) and remembers mac1 for a cookie reply.
  void AddMacs(MutableByteSpan message, Timestamp now);

  // Stores the cookie of a reply to the last message we MACed. Fails with
  // kUnexpectedCookieReply (no such message) or kCookieDecryptFailed.
  Verdict<bool> ConsumeReply(const MessageCookieReply& reply, Timestamp now);

  bool HasValidCookie(Timestamp now) const;

 private:
  crypto::Hash mac1_key_;
  crypto::AeadKey cookie_key_;
  Cookie cookie_{};
  Timestamp cookie_birth_;  // zero: no cookie
  Mac last_mac1_sent_{};
  bool have_sent_mac1_ = false;
};

}  // namespace plexus::wireguard
