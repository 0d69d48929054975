#include "base/bytes.h"

#include <gtest/gtest.h>

namespace plexus {
namespace {

TEST(Hex, RoundTrips) {
  auto b = FromHex("00ff10Ab");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(ToHex(*b), "00ff10ab");
}

TEST(Hex, RejectsOddLengthAndBadDigits) {
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_FALSE(FromHex("zz").has_value());
}

TEST(ByteReader, ReadsFieldsAndFailsPastTheEnd) {
  auto data = *FromHex("0102030405060708090a");
  ByteReader r(data);
  uint8_t a;
  uint16_t b;
  uint32_t c;
  ASSERT_TRUE(r.ReadU8(a));
  ASSERT_TRUE(r.ReadBe16(b));
  ASSERT_TRUE(r.ReadLe32(c));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0x0203);
  EXPECT_EQ(c, 0x07060504u);
  EXPECT_EQ(r.remaining(), 3u);
  uint32_t d;
  EXPECT_FALSE(r.ReadBe32(d));
  EXPECT_TRUE(r.failed());
  uint8_t e;
  EXPECT_FALSE(r.ReadU8(e)) << "a failed reader stays failed";
}

TEST(ByteWriter, WritesBothEndiannesses) {
  Bytes out;
  ByteWriter w(out);
  w.WriteBe16(0x0102);
  w.WriteLe32(0x06050403);
  EXPECT_EQ(ToHex(out), "010203040506");
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  auto a = *FromHex("0102");
  auto b = *FromHex("0102");
  auto c = *FromHex("0103");
  EXPECT_TRUE(ConstantTimeEqual(a, b));
  EXPECT_FALSE(ConstantTimeEqual(a, c));
  EXPECT_FALSE(ConstantTimeEqual(a, ByteSpan(a).first(1)));
}

}  // namespace
}  // namespace plexus
