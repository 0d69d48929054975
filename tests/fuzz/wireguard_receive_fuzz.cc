// libFuzzer target: arbitrary datagrams into wireguard::Device::Receive.
//
// A static setup makes two Devices (A, B) complete a handshake, so B holds
// live handshake state, a live keypair and a cookie secret. Each input is
//   byte 0  flags: bit 0 = B is under load; bit 1 = overwrite bytes 4..7 of
//           the datagram (the receiver index of types 2-4) with the local
//           index of B's current keypair, so that type 4 inputs reach the
//           real transport decryption and replay window
//   rest    the datagram, delivered to B from A's endpoint.
// Time does not move, so the keypair never expires between inputs.
//
// Built with -DPLEXUS_WIREGUARD_WRITE_SEEDS (and without -fsanitize=fuzzer)
// this file is instead a program that writes valid seeds of every message
// type into the directory given as argv[1]:
//   clang++ -std=c++20 -DPLEXUS_WIREGUARD_WRITE_SEEDS -Isrc tests/fuzz/wireguard_receive_fuzz.cc \
//     -Lbuild/debug/src/{wireguard,crypto,base} -lplexus_wireguard -lplexus_crypto \
//     -lplexus_base -lsodium -lcrypto -lfmt -o /tmp/seeds && /tmp/seeds
//     tests/fuzz/corpus/wireguard_receive
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "wireguard/device.h"

namespace {

using namespace plexus;             // NOLINT(google-build-using-namespace): fuzz harness
using namespace plexus::wireguard;  // NOLINT(google-build-using-namespace)

constexpr uint8_t kUnderLoad = 1;
constexpr uint8_t kPatchIndex = 2;

struct Setup {
  testing::FakeClock clock;
  testing::FakeRandom random_a{1};
  testing::FakeRandom random_b{2};
  Endpoint ep_a = *Endpoint::Parse("192.0.2.1:51820");
  Endpoint ep_b = *Endpoint::Parse("198.51.100.2:51820");
  std::unique_ptr<Device> a;
  std::unique_ptr<Device> b;
  // Valid messages captured during the setup (seeds).
  Bytes initiation, response, cookie_reply, keepalive, data;

  Setup() {
    testing::FakeRandom keys(3);
    crypto::PrivateKey ka = crypto::PrivateKey::Generate(keys);
    crypto::PrivateKey kb = crypto::PrivateKey::Generate(keys);
    crypto::PublicKey pa = ka.Public(), pb = kb.Public();
    a = std::make_unique<Device>(std::move(ka), random_a, clock);
    b = std::make_unique<Device>(std::move(kb), random_b, clock);
    (void)a->AddPeer({pb, {}, ep_b, Duration(0)}, clock.Now());
    (void)b->AddPeer({pa, {}, ep_a, Duration(0)}, clock.Now());
    initiation = a->PacketQueued(pb, clock.Now()).datagrams.at(0).bytes;
    cookie_reply = b->Receive(clock.Now(), initiation, ep_a, true).datagrams.at(0).bytes;
    response = b->Receive(clock.Now(), initiation, ep_a, false).datagrams.at(0).bytes;
    keepalive = a->Receive(clock.Now(), response, ep_b, false).datagrams.at(0).bytes;
    (void)b->Receive(clock.Now(), keepalive, ep_a, false);
    Bytes packet(40, std::byte{0x45});
    data = a->Send(pb, packet, clock.Now()).datagrams.at(0).bytes;
  }

  uint32_t LiveIndex() const {
    auto keypairs = b->Keypairs();
    return keypairs.empty() ? 0 : keypairs[0]->local_index();
  }
};

Setup& TheSetup() {
  static Setup* setup = new Setup();  // never destroyed: outlives every input
  return *setup;
}

}  // namespace

#ifndef PLEXUS_WIREGUARD_WRITE_SEEDS

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Setup& s = TheSetup();
  uint8_t flags = data[0];
  Bytes datagram(reinterpret_cast<const std::byte*>(data + 1),
                 reinterpret_cast<const std::byte*>(data + size));
  if ((flags & kPatchIndex) && datagram.size() >= 8) StoreLe32(datagram.data() + 4, s.LiveIndex());
  Outputs out = s.b->Receive(s.clock.Now(), datagram, s.ep_a, flags & kUnderLoad);
  // Whatever B answers must itself be well-formed for A.
  for (const Datagram& d : out.datagrams) {
    if (!ClassifyDatagram(d.bytes).ok()) __builtin_trap();
  }
  return 0;
}

#else

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
    return 2;
  }
  Setup& s = TheSetup();
  auto write = [&](const char* name, uint8_t flags, const Bytes& msg) {
    std::string path = std::string(argv[1]) + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return false;
    std::fputc(flags, f);
    std::fwrite(msg.data(), 1, msg.size(), f);
    return std::fclose(f) == 0;
  };
  bool ok = write("initiation", 0, s.initiation) &&
            write("initiation_under_load", 1, s.initiation) && write("response", 0, s.response) &&
            write("cookie_reply", 0, s.cookie_reply) &&
            write("keepalive", kPatchIndex, s.keepalive) && write("data", kPatchIndex, s.data);
  return ok ? 0 : 1;
}

#endif
