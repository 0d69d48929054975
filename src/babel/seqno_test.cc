#include "babel/seqno.h"

#include <gtest/gtest.h>

namespace plexus::babel {
namespace {

struct NewerCase {
  uint16_t a, b;
  bool a_newer_than_b;
};

TEST(SeqnoTest, IsNewerThanIsModular) {
  const NewerCase cases[] = {
      {1, 0, true},           {0, 1, false},           {0, 0, false},
      {0, 0xFFFF, true},      {0xFFFF, 0, false},      {0x7FFF, 0, true},
      {0x8000, 0, false},     {0, 0x8000, false},      {0x8001, 0, false},
      {0, 0x8001, true},      {0x0005, 0xFFF0, true},  {0xFFF0, 0x0005, false},
      {0xFFFF, 0x8000, true}, {0x8000, 0xFFFF, false}, {0xFFFF, 0x7FFF, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Seqno(c.a).IsNewerThan(Seqno(c.b)), c.a_newer_than_b) << c.a << " vs " << c.b;
    EXPECT_EQ(Seqno(c.b) < Seqno(c.a), c.a_newer_than_b) << c.a << " vs " << c.b;
    EXPECT_EQ(Seqno(c.a) > Seqno(c.b), c.a_newer_than_b) << c.a << " vs " << c.b;
  }
}

TEST(SeqnoTest, HalfwayApartIsIncomparable) {
  const Seqno a(0x1234), b(0x1234 + 0x8000);
  EXPECT_FALSE(a < b);
  EXPECT_FALSE(b < a);
  EXPECT_FALSE(a == b);
}

TEST(SeqnoTest, OrderIsNotTransitive) {
  const Seqno s0(0), s1(0x4000), s2(0x8000), s3(0xC000);
  EXPECT_TRUE(s0 < s1);
  EXPECT_TRUE(s1 < s2);
  EXPECT_TRUE(s2 < s3);
  EXPECT_TRUE(s3 < s0);  // a cycle: no total order
}

TEST(SeqnoTest, IncrementWraps) {
  EXPECT_EQ(Seqno(0xFFFF).Next(), Seqno(0));
  EXPECT_EQ(Seqno(7).Next(), Seqno(8));
  Seqno s(0xFFFE);
  ++s;
  EXPECT_EQ(s.value(), 0xFFFF);
  ++s;
  EXPECT_EQ(s.value(), 0);
  EXPECT_EQ(Seqno(0xFFFF).Plus(2), Seqno(1));
  EXPECT_TRUE(Seqno(0xFFFF).Next().IsNewerThan(Seqno(0xFFFF)));
}

TEST(SeqnoTest, LessOrEqual) {
  EXPECT_TRUE(Seqno(5) <= Seqno(5));
  EXPECT_TRUE(Seqno(0xFFFF) <= Seqno(0));
  EXPECT_FALSE(Seqno(0) <= Seqno(0xFFFF));
  EXPECT_TRUE(Seqno(0) >= Seqno(0xFFFF));
}

}  // namespace
}  // namespace plexus::babel
