// ChaCha20-Poly1305 seal/open of a 1420-byte packet (a full WireGuard payload
// under a 1500-byte MTU), OpenSSL 3 EVP against libsodium. aead.cc uses the
// faster one; its comment records the figures.
//
//   build/release/src/crypto/plexus_crypto_aead_bench
#include <benchmark/benchmark.h>

#include "crypto/chacha_poly_openssl.h"
#include "crypto/chacha_poly_sodium.h"

namespace plexus::crypto {
namespace {

constexpr size_t kPacketSize = 1420;

struct Fixture {
  AeadKey key{Bytes(kAeadKeySize, std::byte{0x42})};
  ByteArray<kChaChaNonceSize> nonce{};
  Bytes packet = Bytes(kPacketSize + kAeadTagSize, std::byte{0x17});
};

void SetCounters(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPacketSize));
  state.counters["ns/packet"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <auto Seal>
void BM_Seal(benchmark::State& state) {
  Fixture f;
  MutableByteSpan buf(f.packet);
  uint64_t counter = 0;
  for (auto _ : state) {
    StoreLe64(f.nonce.data() + 4, counter++);
    Seal(buf, f.key, f.nonce, buf.first(kPacketSize), {});
    benchmark::DoNotOptimize(f.packet.data());
  }
  SetCounters(state);
}

template <auto Seal, auto Open>
void BM_Open(benchmark::State& state) {
  Fixture f;
  Bytes sealed(f.packet.size());
  Seal(sealed, f.key, f.nonce, ByteSpan(f.packet).first(kPacketSize), {});
  Bytes out(kPacketSize);
  for (auto _ : state) {
    bool ok = Open(out, f.key, f.nonce, sealed, {});
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("open failed");
  }
  SetCounters(state);
}

// Every packet under a different key than the one before (two peers
// interleaved on one worker): the OpenSSL backend's key cache always misses.
template <auto Seal>
void BM_SealAlternatingKeys(benchmark::State& state) {
  Fixture f;
  const AeadKey other{Bytes(kAeadKeySize, std::byte{0x43})};
  MutableByteSpan buf(f.packet);
  uint64_t counter = 0;
  for (auto _ : state) {
    StoreLe64(f.nonce.data() + 4, counter);
    Seal(buf, (counter++ & 1) != 0 ? other : f.key, f.nonce, buf.first(kPacketSize), {});
    benchmark::DoNotOptimize(f.packet.data());
  }
  SetCounters(state);
}

BENCHMARK(BM_Seal<OpenSslChaChaPolySeal>)->Name("Seal1420/OpenSsl");
BENCHMARK(BM_Seal<SodiumChaChaPolySeal>)->Name("Seal1420/Sodium");
BENCHMARK(BM_Open<OpenSslChaChaPolySeal, OpenSslChaChaPolyOpen>)->Name("Open1420/OpenSsl");
BENCHMARK(BM_Open<SodiumChaChaPolySeal, SodiumChaChaPolyOpen>)->Name("Open1420/Sodium");
BENCHMARK(BM_SealAlternatingKeys<OpenSslChaChaPolySeal>)->Name("Seal1420AlternatingKeys/OpenSsl");

}  // namespace
}  // namespace plexus::crypto

BENCHMARK_MAIN();
