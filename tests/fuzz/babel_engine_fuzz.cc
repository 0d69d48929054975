// libFuzzer target: babel::Engine (babel/engine.h) fed arbitrary packets.
//
// The input is a sequence of records: one control byte, then a packet. The
// control byte picks the packet's length (low 6 bits, times 8, plus 4 so a
// Babel header fits), which of two neighbours sent it (bit 6) and whether the
// clock moves on by a second before it (bit 7). Properties checked (a
// violation traps): the engine never crashes; every packet it sends decodes as
// Babel and fits the interface's max packet size; every route in its Fib goes
// through an interface it has and has a finite metric.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "babel/engine.h"
#include "babel/tlv.h"
#include "testing/fake_random.h"

namespace {

using plexus::ByteSpan;
using plexus::IpAddress;
using plexus::Timestamp;
using namespace plexus::babel;

constexpr uint32_t kInterface = 3;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckOutput(Engine& engine, const IpAddress& self) {
  for (const OutgoingPacket& p : engine.TakeOutgoing()) {
    Check(p.interface_id == kInterface);
    Check(p.payload.size() <= kMaxPacketSize);
    Check(static_cast<bool>(DecodePacket(p.payload, self)));
  }
  for (const InstalledRoute& r : engine.Fib()) {
    Check(r.interface_id == kInterface);
    Check(!r.metric.IsInfinite());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  plexus::testing::FakeRandom random(1);
  Timestamp now = Timestamp::FromNanos(1'000'000'000);
  EngineParams params;
  params.router_id = RouterId::FromUint64(0x0102030405060708);
  Engine engine(params, random, now);
  const IpAddress self = *IpAddress::Parse("fe80::1");
  const IpAddress neighbours[] = {*IpAddress::Parse("fe80::2"), *IpAddress::Parse("fe80::3")};
  (void)engine.AddInterface(kInterface, self, now);
  engine.AddPrefix({*plexus::Prefix::Parse("fd00:1::/64"), std::nullopt}, now);
  CheckOutput(engine, self);
  ByteSpan input(reinterpret_cast<const std::byte*>(data), size);
  while (!input.empty()) {
    const auto control = std::to_integer<uint8_t>(input[0]);
    input = input.subspan(1);
    const size_t length = std::min<size_t>(input.size(), 4 + 8 * (control & 0x3F));
    if ((control & 0x80) != 0) now = now + std::chrono::seconds(1);
    engine.Receive(kInterface, neighbours[(control >> 6) & 1], input.first(length), now);
    input = input.subspan(length);
    engine.Tick(now);
    CheckOutput(engine, self);
  }
  engine.InterfaceDown(kInterface, now);
  CheckOutput(engine, self);
  return 0;
}
