// libFuzzer target: IpAddress::Parse, Prefix::Parse and Endpoint::Parse
// (base/ip.h) on the whole input as text.
//
// Properties checked (a violation traps): whatever parses prints, with
// ToString(), as text that parses back to an equal value; and for a prefix,
// Network() is idempotent and contains both the prefix and its address.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/ip.h"

namespace {

using plexus::Endpoint;
using plexus::IpAddress;
using plexus::Prefix;

template <typename T>
void CheckRoundTrip(std::string_view text) {
  plexus::Result<T> parsed = T::Parse(text);
  if (!parsed) return;
  plexus::Result<T> again = T::Parse(parsed->ToString());
  if (!again || *again != *parsed) __builtin_trap();
}

void CheckPrefix(std::string_view text) {
  plexus::Result<Prefix> p = Prefix::Parse(text);
  if (!p) return;
  if (p->length() < 0 || p->length() > p->address().bit_length()) __builtin_trap();
  const Prefix network = p->Network();
  if (network.Network() != network || network.length() != p->length()) __builtin_trap();
  if (!network.Contains(*p) || !p->Contains(p->address())) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckRoundTrip<IpAddress>(text);
  CheckRoundTrip<Prefix>(text);
  CheckRoundTrip<Endpoint>(text);
  CheckPrefix(text);
  return 0;
}
