#include "wireguard/drop_reason.h"

namespace plexus::wireguard {

std::string_view ToString(DropReason r) {
  switch (r) {
    case DropReason::kTooShort:
      return "too_short";
    case DropReason::kUnknownType:
      return "unknown_type";
    case DropReason::kBadInitiationSize:
      return "bad_initiation_size";
    case DropReason::kBadResponseSize:
      return "bad_response_size";
    case DropReason::kBadCookieReplySize:
      return "bad_cookie_reply_size";
    case DropReason::kBadTransportSize:
      return "bad_transport_size";
    case DropReason::kBadMac1:
      return "bad_mac1";
    case DropReason::kCookieRequired:
      return "cookie_required";
    case DropReason::kRateLimited:
      return "rate_limited";
    case DropReason::kUnexpectedCookieReply:
      return "unexpected_cookie_reply";
    case DropReason::kCookieDecryptFailed:
      return "cookie_decrypt_failed";
    case DropReason::kHandshakeDecryptFailed:
      return "handshake_decrypt_failed";
    case DropReason::kUnknownPeer:
      return "unknown_peer";
    case DropReason::kStaleTimestamp:
      return "stale_timestamp";
    case DropReason::kHandshakeFlood:
      return "handshake_flood";
    case DropReason::kUnexpectedResponse:
      return "unexpected_response";
    case DropReason::kBadPublicKey:
      return "bad_public_key";
    case DropReason::kUnknownReceiverIndex:
      return "unknown_receiver_index";
    case DropReason::kKeypairExpired:
      return "keypair_expired";
    case DropReason::kCounterExhausted:
      return "counter_exhausted";
    case DropReason::kDecryptFailed:
      return "decrypt_failed";
    case DropReason::kReplay:
      return "replay";
    case DropReason::kBufferTooSmall:
      return "buffer_too_small";
    case DropReason::kNoEndpoint:
      return "no_endpoint";
    case DropReason::kNoKeypair:
      return "no_keypair";
  }
  return "unknown";
}

}  // namespace plexus::wireguard
