// libFuzzer target: babel::DecodePacket (babel/tlv.h) on the whole input as a
// datagram, once from an IPv6 link-local source and once from an IPv4 source.
//
// Property checked (a violation traps): whenever a datagram decodes, writing
// its decoded messages (every TLV but padding, Router-Id and Next Hop, whose
// effect is folded into the Updates) with a PacketWriter and decoding the
// result gives the same messages, nothing skipped, and the same trailer.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "babel/tlv.h"

namespace {

using plexus::ByteSpan;
using plexus::IpAddress;
using plexus::babel::DecodePacket;
using plexus::babel::IsStateOrPadding;
using plexus::babel::Packet;
using plexus::babel::PacketWriter;
using plexus::babel::Tlv;

std::vector<Tlv> Messages(const Packet& p) {
  std::vector<Tlv> out;
  for (const Tlv& t : p.tlvs) {
    if (!IsStateOrPadding(t)) out.push_back(t);
  }
  return out;
}

void CheckRoundTrip(ByteSpan datagram, const IpAddress& source) {
  plexus::Result<Packet> first = DecodePacket(datagram, source);
  if (!first) return;
  const std::vector<Tlv> messages = Messages(*first);
  PacketWriter writer(source, std::numeric_limits<uint16_t>::max());
  for (const Tlv& t : messages) {
    if (!writer.Append(t)) return;  // grew past 64 KiB with Router-Id / Next Hop TLVs
  }
  plexus::Result<Packet> second = DecodePacket(writer.Finish(first->trailer), source);
  if (!second || !second->skipped.empty()) __builtin_trap();
  if (Messages(*second) != messages || second->trailer != first->trailer) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan datagram(reinterpret_cast<const std::byte*>(data), size);
  CheckRoundTrip(datagram, IpAddress::V6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  CheckRoundTrip(datagram, IpAddress::V4({192, 0, 2, 1}));
  return 0;
}
