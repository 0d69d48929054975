#include "babel/tlv.h"

#include <algorithm>
#include <limits>

namespace plexus::babel {
namespace {

using Reason = TlvDropReason;
using MaybeDrop = std::optional<TlvDropReason>;

constexpr uint8_t kAeWildcard = 0, kAeV4 = 1, kAeV6 = 2, kAeLinkLocal = 3, kAeV4ViaV6 = 4;
constexpr uint8_t kLinkLocalPrefix[8] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0};

bool AeIsV4(uint8_t ae) {
  return ae == kAeV4 || ae == kAeV4ViaV6;
}
size_t PrefixOctets(int plen) {
  return static_cast<size_t>(plen + 7) / 8;
}
uint16_t ToWireInterval(Centiseconds c) {
  return static_cast<uint16_t>(std::clamp<int64_t>(c.count(), 0, 0xFFFF));
}
ByteArray<16> FullBytes(const IpAddress& a) {
  ByteArray<16> out{};
  std::copy(a.bytes().begin(), a.bytes().end(), out.begin());
  return out;
}
IpAddress AddressFrom(bool v4, const ByteArray<16>& raw) {
  return v4 ? IpAddress::FromV4Bytes(raw) : IpAddress::FromV6Bytes(raw);
}

// §4.6.9 flag 0x40: the router-id is the low 64 bits of the prefix (an IPv4
// prefix is left-padded with zeros).
RouterId RouterIdFromPrefix(const Prefix& p) {
  ByteArray<16> raw = FullBytes(p.Network().address());
  ByteArray<8> id{};
  if (p.family() == IpFamily::kV4) {
    std::copy_n(raw.begin(), 4, id.begin() + 4);
  } else {
    std::copy_n(raw.begin() + 8, 8, id.begin());
  }
  return RouterId(id);
}

// ---------------------------------------------------------------- sub-TLVs (§4.4, §4.7)

struct SubTlvs {
  std::optional<ByteSpan> timestamp;
  std::optional<ByteSpan> source_prefix;
  bool repeated_source_prefix = false;
  bool unknown_mandatory = false;
};

// `source_prefix_known`: the enclosing TLV is one RFC 9079 extends.
MaybeDrop ParseSubTlvs(ByteSpan area, bool timestamp_known, bool source_prefix_known,
                       SubTlvs& out) {
  ByteReader r(area);
  while (r.remaining() > 0) {
    uint8_t type = 0, length = 0;
    ByteSpan body;
    if (!r.ReadU8(type)) return Reason::kBadSubTlv;
    if (type == static_cast<uint8_t>(SubTlvType::kPad1)) continue;
    if (!r.ReadU8(length) || !r.ReadSpan(length, body)) return Reason::kBadSubTlv;
    if (type == static_cast<uint8_t>(SubTlvType::kPadN)) continue;
    if (timestamp_known && type == static_cast<uint8_t>(SubTlvType::kTimestamp)) {
      out.timestamp = body;
    } else if (source_prefix_known && type == static_cast<uint8_t>(SubTlvType::kSourcePrefix)) {
      out.repeated_source_prefix |= out.source_prefix.has_value();
      out.source_prefix = body;
    } else if (type & kSubTlvMandatoryBit) {
      out.unknown_mandatory = true;
    }
  }
  return std::nullopt;
}

// RFC 9079 §7.1: Source Prefix Length (1), Source Prefix (ceil(len/8) octets).
MaybeDrop DecodeSourcePrefix(const SubTlvs& subs, uint8_t ae, std::optional<Prefix>& out) {
  if (!subs.source_prefix) return std::nullopt;
  if (subs.repeated_source_prefix || ae == kAeWildcard) return Reason::kBadSourcePrefix;
  ByteSpan b = *subs.source_prefix;
  const bool v4 = AeIsV4(ae);
  if (b.empty()) return Reason::kBadSourcePrefix;
  const int plen = std::to_integer<int>(b[0]);
  if (plen == 0 || plen > (v4 ? 32 : 128) || b.size() != 1 + PrefixOctets(plen)) {
    return Reason::kBadSourcePrefix;
  }
  ByteArray<16> raw{};
  std::copy(b.begin() + 1, b.end(), raw.begin());
  out = Prefix(AddressFrom(v4, raw), plen).Network();
  return std::nullopt;
}

// ---------------------------------------------------------------- addresses and prefixes

// §4.1.5 for an address (IHU, Next Hop); AE 0 and AE 4 are the caller's business.
MaybeDrop ReadAddress(uint8_t ae, ByteReader& r, IpAddress& out) {
  ByteArray<16> raw{};
  size_t n = 0, start = 0;
  switch (ae) {
    case kAeV4:
      n = 4;
      break;
    case kAeV6:
      n = 16;
      break;
    case kAeLinkLocal:
      std::copy_n(reinterpret_cast<const std::byte*>(kLinkLocalPrefix), 8, raw.begin());
      n = 8, start = 8;
      break;
    default:
      return Reason::kBadAddressEncoding;
  }
  if (!r.ReadBytes(MutableByteSpan(raw).subspan(start, n))) return Reason::kTooShort;
  out = AddressFrom(ae == kAeV4, raw);
  return std::nullopt;
}

// One prefix field, expanded against the default prefix of `ae` (§4.6.9).
// `raw` receives the expanded octets as they become the next default prefix.
MaybeDrop ReadPrefix(uint8_t ae, int plen, size_t omitted, const ParserState& state, ByteReader& r,
                     ByteArray<16>& raw, Prefix& out) {
  const bool v4 = AeIsV4(ae);
  if (plen > (v4 ? 32 : 128)) return Reason::kPrefixTooLong;
  const size_t octets = PrefixOctets(plen);
  raw = {};
  size_t start = omitted;
  if (ae == kAeLinkLocal) {
    if (omitted != 0) return Reason::kCompressionNotAllowed;
    if (plen < 64) return Reason::kPrefixTooShort;
    std::copy_n(reinterpret_cast<const std::byte*>(kLinkLocalPrefix), 8, raw.begin());
    start = 8;
  } else if (omitted > octets) {
    return Reason::kOmittedTooLarge;
  } else if (omitted > 0) {
    if (!state.default_prefix[ae]) return Reason::kNoDefaultPrefix;
    std::copy_n(state.default_prefix[ae]->begin(), omitted, raw.begin());
  }
  if (!r.ReadBytes(MutableByteSpan(raw).subspan(start, octets - start))) return Reason::kTooShort;
  out = Prefix(AddressFrom(v4, raw), plen).Network();
  return std::nullopt;
}

// ---------------------------------------------------------------- decoder

class Decoder {
 public:
  Decoder(const IpAddress& source, Packet& packet)
      : state_(ParserState::ForSource(source)), packet_(packet) {}

  void Run(ByteSpan body) {
    ByteReader r(body);
    while (r.remaining() > 0) {
      const size_t offset = body.size() - r.remaining();
      uint8_t type = 0, length = 0;
      ByteSpan tlv;
      (void)r.ReadU8(type);
      if (type == static_cast<uint8_t>(TlvType::kPad1)) {
        packet_.tlvs.emplace_back(Pad1{});
        continue;
      }
      if (!r.ReadU8(length) || !r.ReadSpan(length, tlv)) {
        packet_.skipped.push_back({type, offset, Reason::kTruncated});
        return;  // the rest of the body cannot be framed
      }
      if (MaybeDrop drop = Decode(static_cast<TlvType>(type), tlv)) {
        packet_.skipped.push_back({type, offset, *drop});
      }
    }
  }

 private:
  MaybeDrop Decode(TlvType type, ByteSpan b) {
    switch (type) {
      case TlvType::kPad1:
        return std::nullopt;  // handled by Run
      case TlvType::kPadN:
        return Emit(PadN{static_cast<uint8_t>(b.size())});
      case TlvType::kAckRequest:
        return DecodeAckRequest(b);
      case TlvType::kAck:
        return DecodeAck(b);
      case TlvType::kHello:
        return DecodeHello(b);
      case TlvType::kIhu:
        return DecodeIhu(b);
      case TlvType::kRouterId:
        return DecodeRouterId(b);
      case TlvType::kNextHop:
        return DecodeNextHop(b);
      case TlvType::kUpdate:
        return DecodeUpdate(b);
      case TlvType::kRouteRequest:
        return DecodeRouteRequest(b);
      case TlvType::kSeqnoRequest:
        return DecodeSeqnoRequest(b);
    }
    return Reason::kUnknownType;
  }

  MaybeDrop Emit(const Tlv& tlv) {
    packet_.tlvs.push_back(tlv);
    return std::nullopt;
  }

  // Parses the sub-TLV area after `natural` octets; an unknown mandatory
  // sub-TLV is reported separately so parser-state effects can still apply.
  MaybeDrop Subs(ByteSpan b, size_t natural, bool timestamp, bool source_prefix, SubTlvs& out) {
    return ParseSubTlvs(b.subspan(natural), timestamp, source_prefix, out);
  }

  MaybeDrop DecodeAckRequest(ByteSpan b) {
    ByteReader r(b);
    uint16_t reserved = 0, opaque = 0, interval = 0;
    if (!r.ReadBe16(reserved) || !r.ReadBe16(opaque) || !r.ReadBe16(interval)) {
      return Reason::kTooShort;
    }
    if (interval == 0) return Reason::kZeroInterval;
    SubTlvs subs;
    if (MaybeDrop d = Subs(b, kAckRequestBodySize, false, false, subs)) return d;
    if (subs.unknown_mandatory) return Reason::kUnknownMandatorySubTlv;
    return Emit(AckRequest{opaque, Centiseconds(interval)});
  }

  MaybeDrop DecodeAck(ByteSpan b) {
    ByteReader r(b);
    uint16_t opaque = 0;
    if (!r.ReadBe16(opaque)) return Reason::kTooShort;
    SubTlvs subs;
    if (MaybeDrop d = Subs(b, kAckBodySize, false, false, subs)) return d;
    if (subs.unknown_mandatory) return Reason::kUnknownMandatorySubTlv;
    return Emit(Ack{opaque});
  }

  MaybeDrop DecodeHello(ByteSpan b) {
    ByteReader r(b);
    uint16_t flags = 0, seqno = 0, interval = 0;
    if (!r.ReadBe16(flags) || !r.ReadBe16(seqno) || !r.ReadBe16(interval)) {
      return Reason::kTooShort;
    }
    SubTlvs subs;
    if (MaybeDrop d = Subs(b, kHelloBodySize, true, false, subs)) return d;
    if (subs.unknown_mandatory) return Reason::kUnknownMandatorySubTlv;
    Hello hello{flags, Seqno(seqno), Centiseconds(interval), std::nullopt};
    // RFC 9616 §3.1: a Hello timestamp of any other length is ignored.
    if (subs.timestamp && subs.timestamp->size() == 4) {
      hello.timestamp = LoadBe32(subs.timestamp->data());
    }
    return Emit(hello);
  }

  MaybeDrop DecodeIhu(ByteSpan b) {
    ByteReader r(b);
    uint8_t ae = 0, reserved = 0;
    uint16_t rxcost = 0, interval = 0;
    if (!r.ReadU8(ae) || !r.ReadU8(reserved) || !r.ReadBe16(rxcost) || !r.ReadBe16(interval)) {
      return Reason::kTooShort;
    }
    Ihu ihu{Metric(rxcost), Centiseconds(interval), std::nullopt, std::nullopt};
    if (ae != kAeWildcard) {
      IpAddress a;
      if (MaybeDrop d = ReadAddress(ae, r, a)) return d;
      ihu.address = a;
    }
    if (interval == 0) return Reason::kZeroInterval;
    SubTlvs subs;
    if (MaybeDrop d = Subs(b, b.size() - r.remaining(), true, false, subs)) return d;
    if (subs.unknown_mandatory) return Reason::kUnknownMandatorySubTlv;
    // RFC 9616 §3.2: origin then receive timestamp; other lengths are ignored.
    if (subs.timestamp && subs.timestamp->size() == 8) {
      const std::byte* p = subs.timestamp->data();
      ihu.timestamp = IhuTimestamp{LoadBe32(p), LoadBe32(p + 4)};
    }
    return Emit(ihu);
  }

  MaybeDrop DecodeRouterId(ByteSpan b) {
    ByteReader r(b);
    uint16_t reserved = 0;
    ByteSpan id;
    if (!r.ReadBe16(reserved) || !r.ReadSpan(RouterId::kSize, id)) return Reason::kTooShort;
    SubTlvs subs;
    if (MaybeDrop d = Subs(b, kRouterIdBodySize, false, false, subs)) return d;
    const RouterId router_id = RouterId::FromBytes(id);
    if (!router_id.IsValid()) return Reason::kInvalidRouterId;
    state_.router_id = router_id;  // §4.4: applies even if the TLV is then ignored
    if (subs.unknown_mandatory) return Reason::kUnknownMandatorySubTlv;
    return Emit(RouterIdTlv{router_id});
  }

  MaybeDrop DecodeNextHop(ByteSpan b) {
    ByteReader r(b);
    uint8_t ae = 0, reserved = 0;
    if (!r.ReadU8(ae) || !r.ReadU8(reserved)) return Reason::kTooShort;
    IpAddress a;
    if (MaybeDrop d = ReadAddress(ae, r, a)) return d;  // AE 0 and 4 are not addresses
    SubTlvs subs;
    if (MaybeDrop d = Subs(b, b.size() - r.remaining(), false, false, subs)) return d;
    (a.is_v4() ? state_.next_hop_v4 : state_.next_hop_v6) = a;
    if (subs.unknown_mandatory) return Reason::kUnknownMandatorySubTlv;
    return Emit(NextHop{a});
  }

  MaybeDrop DecodeUpdate(ByteSpan b) {
    ByteReader r(b);
    uint8_t ae = 0, flags = 0, plen = 0, omitted = 0;
    uint16_t interval = 0, seqno = 0, metric = 0;
    if (!r.ReadU8(ae) || !r.ReadU8(flags) || !r.ReadU8(plen) || !r.ReadU8(omitted) ||
        !r.ReadBe16(interval) || !r.ReadBe16(seqno) || !r.ReadBe16(metric)) {
      return Reason::kTooShort;
    }
    if (ae > kAeV4ViaV6) return Reason::kBadAddressEncoding;
    Update u;
    u.interval = Centiseconds(interval);
    u.seqno = Seqno(seqno);
    u.metric = Metric(metric);
    ByteArray<16> raw{};
    if (ae == kAeWildcard) {
      if (plen != 0 || omitted != 0 || !u.IsRetraction()) return Reason::kBadWildcard;
      u.wildcard = true;
    } else if (MaybeDrop d = ReadPrefix(ae, plen, omitted, state_, r, raw, u.prefix)) {
      return d;
    }
    if (interval == 0) return Reason::kZeroInterval;
    SubTlvs subs;
    if (MaybeDrop d = Subs(b, b.size() - r.remaining(), false, true, subs)) return d;
    if (MaybeDrop d = DecodeSourcePrefix(subs, ae, u.source_prefix)) return d;
    if (MaybeDrop d = ApplyUpdateFlags(ae, flags, raw, u.prefix)) return d;
    if (subs.unknown_mandatory) return Reason::kUnknownMandatorySubTlv;
    return FinishUpdate(ae, u);
  }

  // §4.5: flag 0x80 sets the default prefix of this AE; 0x40 the router-id.
  MaybeDrop ApplyUpdateFlags(uint8_t ae, uint8_t flags, const ByteArray<16>& raw,
                             const Prefix& prefix) {
    if (ae == kAeWildcard) return std::nullopt;
    if (flags & kUpdateFlagRouterIdFromPrefix) {
      const RouterId id = RouterIdFromPrefix(prefix);
      if (!id.IsValid()) return Reason::kInvalidRouterId;
      state_.router_id = id;
    }
    if ((flags & kUpdateFlagDefaultPrefix) && ae != kAeLinkLocal) state_.default_prefix[ae] = raw;
    return std::nullopt;
  }

  MaybeDrop FinishUpdate(uint8_t ae, Update u) {
    u.router_id = state_.router_id;
    if (u.IsRetraction()) return Emit(u);  // a retraction needs no next hop
    u.next_hop = ae == kAeV4 ? state_.next_hop_v4 : state_.next_hop_v6;
    if (!u.router_id) return Reason::kNoRouterId;
    if (!u.next_hop) return Reason::kNoNextHop;
    return Emit(u);
  }

  MaybeDrop DecodeRouteRequest(ByteSpan b) {
    ByteReader r(b);
    uint8_t ae = 0, plen = 0;
    if (!r.ReadU8(ae) || !r.ReadU8(plen)) return Reason::kTooShort;
    if (ae > kAeV4ViaV6) return Reason::kBadAddressEncoding;
    RouteRequest req;
    if (ae == kAeWildcard) {
      if (plen != 0) return Reason::kBadWildcard;
    } else {
      ByteArray<16> raw{};
      Prefix p;
      if (MaybeDrop d = ReadPrefix(ae, plen, 0, state_, r, raw, p)) return d;
      req.prefix = p;
    }
    SubTlvs subs;
    if (MaybeDrop d = Subs(b, b.size() - r.remaining(), false, true, subs)) return d;
    if (MaybeDrop d = DecodeSourcePrefix(subs, ae, req.source_prefix)) return d;
    if (subs.unknown_mandatory) return Reason::kUnknownMandatorySubTlv;
    return Emit(req);
  }

  MaybeDrop DecodeSeqnoRequest(ByteSpan b) {
    ByteReader r(b);
    uint8_t ae = 0, plen = 0, hop_count = 0, reserved = 0;
    uint16_t seqno = 0;
    ByteSpan id;
    if (!r.ReadU8(ae) || !r.ReadU8(plen) || !r.ReadBe16(seqno) || !r.ReadU8(hop_count) ||
        !r.ReadU8(reserved) || !r.ReadSpan(RouterId::kSize, id)) {
      return Reason::kTooShort;
    }
    if (ae == kAeWildcard || ae > kAeV4ViaV6) return Reason::kBadAddressEncoding;
    SeqnoRequest req;
    ByteArray<16> raw{};
    if (MaybeDrop d = ReadPrefix(ae, plen, 0, state_, r, raw, req.prefix)) return d;
    req.seqno = Seqno(seqno);
    req.hop_count = hop_count;
    req.router_id = RouterId::FromBytes(id);
    if (hop_count == 0) return Reason::kZeroHopCount;
    if (!req.router_id.IsValid()) return Reason::kInvalidRouterId;
    SubTlvs subs;
    if (MaybeDrop d = Subs(b, b.size() - r.remaining(), false, true, subs)) return d;
    if (MaybeDrop d = DecodeSourcePrefix(subs, ae, req.source_prefix)) return d;
    if (subs.unknown_mandatory) return Reason::kUnknownMandatorySubTlv;
    return Emit(req);
  }

  ParserState state_;
  Packet& packet_;
};

// ---------------------------------------------------------------- encoder

void WriteTlv(Bytes& out, TlvType type, const Bytes& body) {
  out.push_back(static_cast<std::byte>(type));
  out.push_back(static_cast<std::byte>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
}

// The AE that carries `a` (§4.1.5): link-local fe80::/64 addresses use AE 3.
uint8_t AddressAe(const IpAddress& a) {
  if (a.is_v4()) return kAeV4;
  const bool link_local = std::equal(a.bytes().begin(), a.bytes().begin() + 8,
                                     reinterpret_cast<const std::byte*>(kLinkLocalPrefix));
  return link_local ? kAeLinkLocal : kAeV6;
}

void WriteAddress(ByteWriter& w, const IpAddress& a) {
  w.WriteBytes(AddressAe(a) == kAeLinkLocal ? a.bytes().subspan(8) : a.bytes());
}

// The octets of a prefix field without compression (Route / Seqno Request).
void WritePrefixOctets(ByteWriter& w, const Prefix& p) {
  w.WriteBytes(p.Network().address().bytes().first(PrefixOctets(p.length())));
}

void WriteSourcePrefix(ByteWriter& w, const std::optional<Prefix>& p) {
  if (!p) return;
  w.WriteU8(static_cast<uint8_t>(SubTlvType::kSourcePrefix));
  w.WriteU8(static_cast<uint8_t>(1 + PrefixOctets(p->length())));
  w.WriteU8(static_cast<uint8_t>(p->length()));
  WritePrefixOctets(w, *p);
}

class Encoder {
 public:
  Encoder(ParserState& state, Bytes& out) : state_(state), out_(out) {}

  void operator()(const Pad1&) { out_.push_back(std::byte{0}); }
  void operator()(const PadN& t) { WriteTlv(out_, TlvType::kPadN, Bytes(t.length)); }

  void operator()(const AckRequest& t) {
    Bytes b;
    ByteWriter w(b);
    w.WriteBe16(0);
    w.WriteBe16(t.opaque);
    w.WriteBe16(ToWireInterval(t.interval));
    WriteTlv(out_, TlvType::kAckRequest, b);
  }

  void operator()(const Ack& t) {
    Bytes b;
    ByteWriter(b).WriteBe16(t.opaque);
    WriteTlv(out_, TlvType::kAck, b);
  }

  void operator()(const Hello& t) {
    Bytes b;
    ByteWriter w(b);
    w.WriteBe16(t.flags);
    w.WriteBe16(t.seqno.value());
    w.WriteBe16(ToWireInterval(t.interval));
    if (t.timestamp) {
      w.WriteU8(static_cast<uint8_t>(SubTlvType::kTimestamp));
      w.WriteU8(4);
      w.WriteBe32(*t.timestamp);
    }
    WriteTlv(out_, TlvType::kHello, b);
  }

  void operator()(const Ihu& t) {
    Bytes b;
    ByteWriter w(b);
    w.WriteU8(t.address ? AddressAe(*t.address) : kAeWildcard);
    w.WriteU8(0);
    w.WriteBe16(t.rxcost.value());
    w.WriteBe16(ToWireInterval(t.interval));
    if (t.address) WriteAddress(w, *t.address);
    if (t.timestamp) {
      w.WriteU8(static_cast<uint8_t>(SubTlvType::kTimestamp));
      w.WriteU8(8);
      w.WriteBe32(t.timestamp->origin);
      w.WriteBe32(t.timestamp->receive);
    }
    WriteTlv(out_, TlvType::kIhu, b);
  }

  void operator()(const RouterIdTlv& t) {
    Bytes b;
    ByteWriter w(b);
    w.WriteBe16(0);
    w.WriteBytes(t.router_id.bytes());
    WriteTlv(out_, TlvType::kRouterId, b);
    state_.router_id = t.router_id;
  }

  void operator()(const NextHop& t) {
    Bytes b;
    ByteWriter w(b);
    w.WriteU8(AddressAe(t.address));
    w.WriteU8(0);
    WriteAddress(w, t.address);
    WriteTlv(out_, TlvType::kNextHop, b);
    (t.address.is_v4() ? state_.next_hop_v4 : state_.next_hop_v6) = t.address;
  }

  void operator()(const Update& t) {
    const uint8_t ae = UpdateAe(t);
    uint8_t flags = 0;
    if (t.router_id && t.router_id != state_.router_id) {
      if (!t.wildcard && RouterIdFromPrefix(t.prefix) == *t.router_id) {
        flags |= kUpdateFlagRouterIdFromPrefix;
        state_.router_id = t.router_id;
      } else {
        (*this)(RouterIdTlv{*t.router_id});
      }
    }
    if (!t.IsRetraction() && t.next_hop &&
        t.next_hop != (t.next_hop->is_v4() ? state_.next_hop_v4 : state_.next_hop_v6)) {
      (*this)(NextHop{*t.next_hop});
    }
    Bytes b;
    ByteWriter w(b);
    w.WriteU8(ae);
    WriteCompressedPrefix(w, ae, flags, t);
    WriteSourcePrefix(w, t.source_prefix);
    WriteTlv(out_, TlvType::kUpdate, b);
  }

  void operator()(const RouteRequest& t) {
    Bytes b;
    ByteWriter w(b);
    w.WriteU8(t.prefix ? (t.prefix->family() == IpFamily::kV4 ? kAeV4 : kAeV6) : kAeWildcard);
    w.WriteU8(t.prefix ? static_cast<uint8_t>(t.prefix->length()) : 0);
    if (t.prefix) WritePrefixOctets(w, *t.prefix);
    WriteSourcePrefix(w, t.source_prefix);
    WriteTlv(out_, TlvType::kRouteRequest, b);
  }

  void operator()(const SeqnoRequest& t) {
    Bytes b;
    ByteWriter w(b);
    w.WriteU8(t.prefix.family() == IpFamily::kV4 ? kAeV4 : kAeV6);
    w.WriteU8(static_cast<uint8_t>(t.prefix.length()));
    w.WriteBe16(t.seqno.value());
    w.WriteU8(t.hop_count);
    w.WriteU8(0);
    w.WriteBytes(t.router_id.bytes());
    WritePrefixOctets(w, t.prefix);
    WriteSourcePrefix(w, t.source_prefix);
    WriteTlv(out_, TlvType::kSeqnoRequest, b);
  }

 private:
  static uint8_t UpdateAe(const Update& t) {
    if (t.wildcard) return kAeWildcard;
    if (t.prefix.family() == IpFamily::kV6) return kAeV6;
    return !t.IsRetraction() && t.next_hop && t.next_hop->is_v6() ? kAeV4ViaV6 : kAeV4;
  }

  // Flags, Plen, Omitted, Interval, Seqno, Metric, Prefix: compressed against
  // this AE's default prefix, which flag 0x80 then replaces (§4.6.9).
  void WriteCompressedPrefix(ByteWriter& w, uint8_t ae, uint8_t flags, const Update& t) {
    const int plen = t.wildcard ? 0 : t.prefix.length();
    const size_t octets = PrefixOctets(plen);
    const ByteArray<16> full = FullBytes(t.prefix.Network().address());
    size_t omitted = 0;
    if (ae != kAeWildcard) {
      const auto& dflt = state_.default_prefix[ae];
      while (dflt && omitted < octets && (*dflt)[omitted] == full[omitted]) ++omitted;
      state_.default_prefix[ae] = full;
      flags |= kUpdateFlagDefaultPrefix;
    }
    w.WriteU8(flags);
    w.WriteU8(static_cast<uint8_t>(plen));
    w.WriteU8(static_cast<uint8_t>(omitted));
    w.WriteBe16(ToWireInterval(t.interval));
    w.WriteBe16(t.seqno.value());
    w.WriteBe16(t.metric.value());
    w.WriteBytes(ByteSpan(full).subspan(omitted, octets - omitted));
  }

  ParserState& state_;
  Bytes& out_;
};

}  // namespace

std::string_view ToString(TlvDropReason reason) {
  switch (reason) {
    case Reason::kTruncated:
      return "truncated";
    case Reason::kUnknownType:
      return "unknown-type";
    case Reason::kTooShort:
      return "too-short";
    case Reason::kBadAddressEncoding:
      return "bad-address-encoding";
    case Reason::kPrefixTooLong:
      return "prefix-too-long";
    case Reason::kPrefixTooShort:
      return "prefix-too-short";
    case Reason::kOmittedTooLarge:
      return "omitted-too-large";
    case Reason::kNoDefaultPrefix:
      return "no-default-prefix";
    case Reason::kCompressionNotAllowed:
      return "compression-not-allowed";
    case Reason::kBadWildcard:
      return "bad-wildcard";
    case Reason::kZeroInterval:
      return "zero-interval";
    case Reason::kZeroHopCount:
      return "zero-hop-count";
    case Reason::kInvalidRouterId:
      return "invalid-router-id";
    case Reason::kNoRouterId:
      return "no-router-id";
    case Reason::kNoNextHop:
      return "no-next-hop";
    case Reason::kBadSubTlv:
      return "bad-sub-tlv";
    case Reason::kBadSourcePrefix:
      return "bad-source-prefix";
    case Reason::kUnknownMandatorySubTlv:
      return "unknown-mandatory-sub-tlv";
  }
  return "unknown";
}

ParserState ParserState::ForSource(const IpAddress& source) {
  ParserState s;
  (source.is_v4() ? s.next_hop_v4 : s.next_hop_v6) = source;
  return s;
}

Result<Packet> DecodePacket(ByteSpan datagram, const IpAddress& source) {
  ByteReader r(datagram);
  uint8_t magic = 0, version = 0;
  uint16_t body_length = 0;
  if (!r.ReadU8(magic) || !r.ReadU8(version) || !r.ReadBe16(body_length)) {
    return MakeError("babel packet shorter than its header ({} octets)", datagram.size());
  }
  if (magic != kMagic) return MakeError("babel packet with magic {}", magic);
  if (version != kVersion) return MakeError("babel packet with version {}", version);
  ByteSpan body;
  if (!r.ReadSpan(body_length, body)) {
    return MakeError("babel body length {} exceeds the {} octets received", body_length,
                     datagram.size() - kPacketHeaderSize);
  }
  Packet packet;
  Decoder(source, packet).Run(body);
  packet.trailer.assign(r.Rest().begin(), r.Rest().end());
  return packet;
}

PacketWriter::PacketWriter(const IpAddress& source, size_t max_size)
    : state_(ParserState::ForSource(source)), max_size_(max_size) {}

bool PacketWriter::Append(const Tlv& tlv) {
  ParserState next = state_;
  const size_t before = body_.size();
  std::visit(Encoder(next, body_), tlv);  // in place; undone if it does not fit
  if (size() > max_size_ || body_.size() > std::numeric_limits<uint16_t>::max()) {
    body_.resize(before);
    return false;
  }
  state_ = next;
  return true;
}

Bytes PacketWriter::Finish(ByteSpan trailer) const {
  Bytes out;
  ByteWriter w(out);
  w.WriteU8(kMagic);
  w.WriteU8(kVersion);
  w.WriteBe16(static_cast<uint16_t>(body_.size()));
  w.WriteBytes(body_);
  w.WriteBytes(trailer);
  return out;
}

bool IsStateOrPadding(const Tlv& tlv) {
  return std::holds_alternative<Pad1>(tlv) || std::holds_alternative<PadN>(tlv) ||
         std::holds_alternative<RouterIdTlv>(tlv) || std::holds_alternative<NextHop>(tlv);
}

}  // namespace plexus::babel
