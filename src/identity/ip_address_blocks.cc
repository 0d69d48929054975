#include "identity/ip_address_blocks.h"

#include <openssl/err.h>

#include <array>
#include <cstring>
#include <memory>

#include "identity/openssl_util.h"

namespace plexus::identity {
namespace {

using U128 = unsigned __int128;

struct IpAddrBlocksDeleter {
  void operator()(IPAddrBlocks* blocks) const {
    sk_IPAddressFamily_pop_free(blocks, IPAddressFamily_free);
  }
};
using IpAddrBlocksPtr = std::unique_ptr<IPAddrBlocks, IpAddrBlocksDeleter>;

U128 ToU128(const IpAddress& a) {
  U128 v = 0;
  for (std::byte b : a.bytes()) v = (v << 8) | std::to_integer<uint8_t>(b);
  return v;
}

IpAddress FromU128(U128 v, IpFamily family) {
  if (family == IpFamily::kV4) {
    std::array<uint8_t, 4> b{};
    for (int i = 3; i >= 0; --i, v >>= 8) b[i] = static_cast<uint8_t>(v);
    return IpAddress::V4(b);
  }
  std::array<uint8_t, 16> b{};
  for (int i = 15; i >= 0; --i, v >>= 8) b[i] = static_cast<uint8_t>(v);
  return IpAddress::V6(b);
}

// The largest k such that a 2^k block starting at `start` is aligned and ends
// at or before `end` (start <= end, and not the whole address space).
int LargestBlockBits(U128 start, U128 end, int max_bits) {
  int k = 0;
  while (k + 1 < max_bits) {
    U128 size = U128{1} << (k + 1);
    if ((start & (size - 1)) != 0 || end - start < size - 1) break;
    ++k;
  }
  return k;
}

Status AddOnePrefix(IPAddrBlocks* blocks, const Prefix& prefix) {
  Prefix net = prefix.Network();
  std::array<unsigned char, 16> raw{};
  std::memcpy(raw.data(), net.address().bytes().data(), net.address().bytes().size());
  unsigned afi = net.address().is_v4() ? IANA_AFI_IPV4 : IANA_AFI_IPV6;
  if (X509v3_addr_add_prefix(blocks, afi, nullptr, raw.data(), net.length()) != 1) {
    return OpenSslError(fmt::format("adding {} to the IP address blocks", net.ToString()));
  }
  return Ok();
}

Status AppendFamily(IPAddressFamily* family, std::vector<Prefix>& out) {
  unsigned afi = X509v3_addr_get_afi(family);
  if (afi != IANA_AFI_IPV4 && afi != IANA_AFI_IPV6) {
    return MakeError("IP address blocks: unsupported address family {}", afi);
  }
  if (family->ipAddressChoice->type != IPAddressChoice_addressesOrRanges) {
    return MakeError("IP address blocks: \"inherit\" is not supported");
  }
  IPAddressOrRanges* ranges = family->ipAddressChoice->u.addressesOrRanges;
  for (int i = 0; i < sk_IPAddressOrRange_num(ranges); ++i) {
    std::array<unsigned char, 16> min{}, max{};
    int len = X509v3_addr_get_range(sk_IPAddressOrRange_value(ranges, i), afi, min.data(),
                                    max.data(), static_cast<int>(min.size()));
    if (len != (afi == IANA_AFI_IPV4 ? 4 : 16)) return MakeError("IP address blocks: bad entry");
    auto as_addr = [&](const std::array<unsigned char, 16>& b) {
      ByteSpan s(reinterpret_cast<const std::byte*>(b.data()), static_cast<size_t>(len));
      return len == 4 ? IpAddress::FromV4Bytes(s) : IpAddress::FromV6Bytes(s);
    };
    IpAddress first = as_addr(min), last = as_addr(max);
    if (last < first) return MakeError("IP address blocks: inverted range");
    for (const Prefix& p : RangeToPrefixes(first, last)) out.push_back(p);
  }
  return Ok();
}

}  // namespace

std::vector<Prefix> RangeToPrefixes(const IpAddress& first, const IpAddress& last) {
  const int bits = first.bit_length();
  const U128 max_value = bits == 128 ? ~U128{0} : (U128{1} << bits) - 1;
  U128 start = ToU128(first);
  const U128 end = ToU128(last);
  if (start == 0 && end == max_value) return {Prefix(FromU128(0, first.family()), 0)};
  std::vector<Prefix> out;
  while (true) {
    int k = LargestBlockBits(start, end, bits);
    out.emplace_back(FromU128(start, first.family()), bits - k);
    U128 block_last = start + ((U128{1} << k) - 1);
    if (block_last >= end) break;
    start = block_last + 1;
  }
  return out;
}

Status AddIpAddressBlocks(X509* cert, std::span<const Prefix> prefixes) {
  if (prefixes.empty()) return MakeError("IP address blocks: no prefixes");
  IpAddrBlocksPtr blocks(sk_IPAddressFamily_new_null());
  if (!blocks) return OpenSslError("IP address blocks");
  for (const Prefix& p : prefixes) {
    Status s = AddOnePrefix(blocks.get(), p);
    if (!s) return s;
  }
  if (X509v3_addr_canonize(blocks.get()) != 1) {
    ERR_clear_error();
    return MakeError("IP address blocks: prefixes overlap");
  }
  // RFC 3779 §2.2.2: the extension SHOULD be critical.
  if (X509_add1_ext_i2d(cert, NID_sbgp_ipAddrBlock, blocks.get(), 1, X509V3_ADD_REPLACE) != 1) {
    return OpenSslError("adding the IP address blocks extension");
  }
  return Ok();
}

Result<std::vector<Prefix>> ReadIpAddressBlocks(const X509* cert) {
  int critical = 0;
  IpAddrBlocksPtr blocks(
      static_cast<IPAddrBlocks*>(X509_get_ext_d2i(cert, NID_sbgp_ipAddrBlock, &critical, nullptr)));
  if (!blocks) {
    if (critical == -1) return std::vector<Prefix>{};  // absent
    return OpenSslError("IP address blocks extension is malformed or repeated");
  }
  std::vector<Prefix> out;
  for (int i = 0; i < sk_IPAddressFamily_num(blocks.get()); ++i) {
    Status s = AppendFamily(sk_IPAddressFamily_value(blocks.get(), i), out);
    if (!s) return s.error();
  }
  return out;
}

}  // namespace plexus::identity
