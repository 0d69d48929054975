#include "wireguard/messages.h"

namespace plexus::wireguard {

Verdict<MessageType> ClassifyDatagram(ByteSpan datagram) {
  if (datagram.size() < 4) return DropReason::kTooShort;
  switch (LoadLe32(datagram.data())) {
    case 1:
      if (datagram.size() != sizeof(MessageInitiation)) return DropReason::kBadInitiationSize;
      return MessageType::kInitiation;
    case 2:
      if (datagram.size() != sizeof(MessageResponse)) return DropReason::kBadResponseSize;
      return MessageType::kResponse;
    case 3:
      if (datagram.size() != sizeof(MessageCookieReply)) return DropReason::kBadCookieReplySize;
      return MessageType::kCookieReply;
    case 4:
      if (datagram.size() < kTransportMinimumSize) return DropReason::kBadTransportSize;
      return MessageType::kTransport;
    default:
      return DropReason::kUnknownType;
  }
}

}  // namespace plexus::wireguard
