// Micro-benchmarks of the per-byte work of TUN offloads (io/offload.h): the
// Internet checksum, segmentation of a TSO super-packet read from TUN, and
// coalescing of received segments written to TUN.
//
//   build/release/src/io/plexus_io_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "io/offload.h"

namespace plexus::io {
namespace {

constexpr uint16_t kMss = 1380;
constexpr size_t kHeaders = 40;                      // IPv4 + TCP, no options
constexpr size_t kSuperPayload = 47 * size_t{kMss};  // the most MSS that fit 64 KiB

Bytes RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = std::byte(rng() & 0xff);
  return b;
}

// A TCPv4 packet as the kernel hands it over with TSO: valid IPv4 header, the
// pseudo-header sum in the TCP checksum field (NEEDS_CSUM).
Bytes TcpV4SuperPacket(size_t payload) {
  Bytes p = RandomBytes(kHeaders + payload, 1);
  std::byte* h = p.data();
  const uint8_t ip[20] = {0x45, 0, 0,  0, 0x12, 0x34, 0x40, 0, 64, 6,
                          0,    0, 10, 0, 0,    1,    10,   0, 0,  2};
  std::memcpy(h, ip, sizeof ip);
  StoreBe16(h + 2, static_cast<uint16_t>(p.size()));
  StoreBe16(h + 10, InternetChecksum(ByteSpan(p).first(20)));
  std::byte* t = h + 20;
  StoreBe16(t, 40000), StoreBe16(t + 2, 5201);
  StoreBe32(t + 4, 1000), StoreBe32(t + 8, 5000);
  t[12] = std::byte(5 << 4), t[13] = std::byte(0x18);  // ACK|PSH
  StoreBe16(t + 14, 512), StoreBe16(t + 18, 0);
  StoreBe16(t + 16, PseudoHeaderSum(ByteSpan(p).subspan(12, 4), ByteSpan(p).subspan(16, 4), 6,
                                    static_cast<uint32_t>(p.size() - 20)));
  return p;
}

VirtioNetHeader TsoHeader() {
  return {VirtioNetHeader::kFlagNeedsCsum, VirtioNetHeader::kGsoTcpV4, kHeaders, kMss, 20, 16};
}

struct Segments {
  explicit Segments(size_t count) : storage(count, Bytes(65535)) {
    for (Bytes& b : storage) spans.push_back(MutableByteSpan(b));
  }
  std::vector<Bytes> storage;
  std::vector<MutableByteSpan> spans;
};

void BM_OnesComplementSum(benchmark::State& state) {
  const Bytes data = RandomBytes(static_cast<size_t>(state.range(0)), 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(OnesComplementSum(data));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_OnesComplementSum)->Arg(1400)->Arg(65536);

void BM_SegmentTcpV4(benchmark::State& state) {
  const Bytes packet = TcpV4SuperPacket(kSuperPayload);
  Segments out(64);
  for (auto _ : state) {
    std::vector<MutableByteSpan> spans = out.spans;
    SegmentResult r = Segment(TsoHeader(), packet, spans);
    if (r.count != kSuperPayload / kMss) state.SkipWithError("segmentation failed");
    benchmark::DoNotOptimize(spans.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * packet.size()));
}
BENCHMARK(BM_SegmentTcpV4);

// 45 MSS-sized segments of one flow, as the rx worker hands them over. Only the
// head buffer is written by Coalesce, so each iteration restores just that.
class CoalesceBatch {
 public:
  explicit CoalesceBatch(size_t count) : segments_(count) {
    const Bytes packet = TcpV4SuperPacket(count * kMss);
    SegmentResult r = Segment(TsoHeader(), packet, segments_.spans);
    for (size_t i = 0; i < r.count; ++i) {
      const size_t length = segments_.spans[i].size();
      lengths_.push_back(length);
      buffers_.push_back({MutableByteSpan(segments_.storage[i]), length, {}});
    }
    head_.assign(segments_.storage[0].begin(), segments_.storage[0].begin() + lengths_[0]);
    order_.resize(buffers_.size());
  }
  size_t Run(const Coalescer& prototype) {
    std::memcpy(segments_.storage[0].data(), head_.data(), head_.size());
    for (size_t i = 0; i < buffers_.size(); ++i) buffers_[i].length = lengths_[i];
    Coalescer c = prototype;
    return c.Coalesce(buffers_, order_);
  }
  size_t bytes() const { return buffers_.size() * lengths_[0]; }

 private:
  Segments segments_;
  std::vector<size_t> lengths_;
  std::vector<PacketBuffer> buffers_;
  std::vector<uint32_t> order_;
  Bytes head_;
};

void BM_Coalesce45(benchmark::State& state, Coalescer::TransportChecksums checksums) {
  CoalesceBatch batch(45);
  const Coalescer prototype(checksums);
  for (auto _ : state) {
    if (batch.Run(prototype) != 1) state.SkipWithError("coalescing failed");
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.bytes()));
}
BENCHMARK_CAPTURE(BM_Coalesce45, verify, Coalescer::TransportChecksums::kVerify);
BENCHMARK_CAPTURE(BM_Coalesce45, trust, Coalescer::TransportChecksums::kTrust);

}  // namespace
}  // namespace plexus::io

BENCHMARK_MAIN();
