// libFuzzer target: node::ParseLinkLocalUdp (node/link_local_udp.h), the
// check every link-local packet from the data plane goes through before
// Babel or link control sees it.
//
// Properties checked (a violation traps): the payload lies inside the input;
// a packet that parses, rebuilt from its fields with BuildLinkLocalUdp (same
// port both ways), parses again to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "node/link_local_udp.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  plexus::ByteSpan input(reinterpret_cast<const std::byte*>(data), size);
  auto parsed = plexus::node::ParseLinkLocalUdp(input);
  if (!parsed) return 0;
  Check(parsed->payload.data() >= input.data());
  Check(parsed->payload.data() + parsed->payload.size() <= input.data() + input.size());
  const plexus::Bytes rebuilt = plexus::node::BuildLinkLocalUdp(
      parsed->source, parsed->destination, parsed->destination_port, parsed->payload);
  auto again = plexus::node::ParseLinkLocalUdp(rebuilt);
  Check(static_cast<bool>(again));
  Check(again->source == parsed->source && again->destination == parsed->destination);
  Check(again->destination_port == parsed->destination_port);
  Check(again->payload.size() == parsed->payload.size());
  return 0;
}
