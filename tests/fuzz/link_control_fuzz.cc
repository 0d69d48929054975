// libFuzzer target: mesh::DecodePayload (mesh/link_control_messages.h), the
// first thing every UDP 6327 payload from a link goes through, and the
// DocumentFlood that consumes Versions, DocumentRequests and fragments.
//
// Properties checked (a violation traps): a payload that decodes re-encodes
// into payloads of at most kMaxPayloadSize that decode to the same messages;
// a dropped payload has a named reason; feeding the messages to a
// DocumentFlood (which verifies against a CA key nobody holds, so nothing
// is ever accepted) never accepts a document and keeps its deadline sane.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "mesh/document_flood.h"
#include "mesh/link_control_messages.h"

namespace {

using namespace plexus;  // NOLINT(google-build-using-namespace): a fuzz target's one function

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckRoundTrip(const mesh::DecodedPayload& decoded) {
  mesh::EncodedPayloads encoded = mesh::EncodePayloads(decoded.messages);
  Check(encoded.oversized == 0);
  std::vector<mesh::Message> again;
  for (const Bytes& p : encoded.payloads) {
    Check(p.size() <= mesh::kMaxPayloadSize);
    mesh::DecodedPayload d = mesh::DecodePayload(p);
    Check(d.ok() && d.skipped_unknown == 0);
    again.insert(again.end(), d.messages.begin(), d.messages.end());
  }
  Check(again == decoded.messages);
}

void Feed(const mesh::DecodedPayload& decoded) {
  ByteArray<identity::kEd25519PublicKeySize> key;
  key.fill(std::byte{0x5a});
  mesh::DocumentFlood flood{identity::IdentityPublicKey(key)};
  const Timestamp t0 = Timestamp::FromNanos(1'000'000'000);
  flood.AddLink(1, t0);
  for (const Timestamp t : {t0, t0 + 5s, t0 + 20s}) {
    for (const mesh::Message& m : decoded.messages) flood.Receive(1, m, t);
    flood.Tick(t);
    Check(flood.NextDeadline() > t);
  }
  Check(flood.TakeOutput().events.empty());
  Check(flood.counters().accepted == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(reinterpret_cast<const std::byte*>(data), size);
  mesh::DecodedPayload decoded = mesh::DecodePayload(input);
  if (!decoded.ok()) {
    Check(mesh::LinkControlDropName(decoded.drop) != "unknown");
    return 0;
  }
  Check(!decoded.messages.empty() || decoded.skipped_unknown > 0);
  CheckRoundTrip(decoded);
  Feed(decoded);
  return 0;
}
