#include "io/checksum.h"

#include <gtest/gtest.h>

#include <random>

namespace plexus::io {
namespace {

// The RFC 1071 §4.1 loop, one big-endian word at a time.
uint16_t RefSum(ByteSpan b, uint16_t initial = 0) {
  uint64_t sum = initial;
  for (size_t i = 0; i < b.size(); i += 2) {
    const uint64_t high = std::to_integer<uint8_t>(b[i]);
    const uint64_t low = i + 1 < b.size() ? std::to_integer<uint8_t>(b[i + 1]) : 0;
    sum += (high << 8) | low;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

Bytes RandomBytes(std::mt19937& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = std::byte(rng() & 0xff);
  return b;
}

TEST(Checksum, MatchesReferenceOnRandomLengthsAndOddOffsets) {
  std::mt19937 rng(11);
  const Bytes data = RandomBytes(rng, 9000 + 64);
  for (int trial = 0; trial < 3000; ++trial) {
    const size_t offset = rng() % 64, length = rng() % 9001;
    const auto initial = static_cast<uint16_t>(rng());
    ByteSpan s = ByteSpan(data).subspan(offset, length);
    ASSERT_EQ(OnesComplementSum(s, initial), RefSum(s, initial)) << offset << "+" << length;
  }
}

TEST(Checksum, CopyAndSumCopiesExactlyAndMatchesReference) {
  std::mt19937 rng(12);
  const Bytes data = RandomBytes(rng, 9000 + 64);
  for (int trial = 0; trial < 3000; ++trial) {
    const size_t from = rng() % 64, to = rng() % 64, length = rng() % 9001;
    const auto initial = static_cast<uint16_t>(rng());
    ByteSpan source = ByteSpan(data).subspan(from, length);
    Bytes out(to + length + 64, std::byte(0xa5));
    const uint16_t sum = CopyAndSum(MutableByteSpan(out).subspan(to), source, initial);
    ASSERT_EQ(sum, RefSum(source, initial)) << from << "->" << to << "+" << length;
    Bytes expected(to, std::byte(0xa5));
    expected.insert(expected.end(), source.begin(), source.end());
    expected.resize(out.size(), std::byte(0xa5));
    ASSERT_EQ(out, expected) << from << "->" << to << "+" << length;
  }
}

// All-ones words grow every partial sum fastest: megabytes of them cross the
// points where the fast sum must flush its 32-bit lanes.
TEST(Checksum, LongInputsDoNotOverflowPartialSums) {
  std::mt19937 rng(13);
  for (const Bytes& data : {Bytes((4 << 20) + 7, std::byte(0xff)), RandomBytes(rng, 3 << 20)}) {
    EXPECT_EQ(OnesComplementSum(data), RefSum(data));
    Bytes copy(data.size());
    EXPECT_EQ(CopyAndSum(copy, data), RefSum(data));
    EXPECT_EQ(copy, data);
  }
}

TEST(Checksum, SumIsZeroOnlyForAllZeroData) {
  EXPECT_EQ(OnesComplementSum(Bytes(100, std::byte(0))), 0);
  EXPECT_EQ(OnesComplementSum(Bytes(100, std::byte(0)), 0xffff), 0xffff);
  EXPECT_EQ(OnesComplementSum(Bytes(2, std::byte(0xff))), 0xffff);
  EXPECT_EQ(AddOnesComplement(0, 0), 0);
  EXPECT_EQ(AddOnesComplement(0xffff, 1), 1);
  EXPECT_EQ(AddOnesComplement(0xfffe, 1), 0xffff);
}

TEST(Checksum, AddOnesComplementChainsEvenLengthParts) {
  std::mt19937 rng(14);
  for (int trial = 0; trial < 200; ++trial) {
    const Bytes a = RandomBytes(rng, 2 * (rng() % 100)), b = RandomBytes(rng, rng() % 200);
    Bytes ab = a;
    ab.insert(ab.end(), b.begin(), b.end());
    ASSERT_EQ(AddOnesComplement(OnesComplementSum(a), OnesComplementSum(b)), RefSum(ab));
  }
}

}  // namespace
}  // namespace plexus::io
