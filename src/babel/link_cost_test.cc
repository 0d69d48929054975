#include "babel/link_cost.h"

#include <gtest/gtest.h>

#include <vector>

namespace plexus::babel {
namespace {

const Metric kInf = Metric::Infinity();
const Metric kNominal(96);

TEST(LinkCostTest, TwoOutOfThreeTable) {
  struct Row {
    uint16_t history;
    Metric rxcost;
  };
  const std::vector<Row> rows =
      {
          {0b000, kInf},     {0b001, kInf},      {0b010, kInf},
          {0b100, kInf},     {0b011, kNominal},  {0b101, kNominal},
          {0b110, kNominal}, {0b111, kNominal},  {0xFFF8, kInf},  // only older Hellos arrived
          {0xFFF9, kInf},    {0b1011, kNominal},
      };
  for (const Row& r : rows) {
    EXPECT_EQ(TwoOutOfThreeRxcost(r.history, kNominal), r.rxcost) << "history " << r.history;
  }
}

TEST(LinkCostTest, TwoOutOfThreeTransitionsAsHellosAreLost) {
  // Shifting history: 111 -> 110 (one lost, still up) -> 100 (down) -> 001 (one back,
  // still down) -> 011 (up again).
  const std::vector<std::pair<uint16_t, Metric>> steps = {{0b111, kNominal},
                                                          {0b1110, kNominal},
                                                          {0b11100, kInf},
                                                          {0b111001, kInf},
                                                          {0b1110011, kNominal}};
  for (const auto& [h, cost] : steps) EXPECT_EQ(TwoOutOfThreeRxcost(h, kNominal), cost) << h;
}

TEST(LinkCostTest, EtxRxcostHandComputed) {
  struct Row {
    uint16_t history;
    uint16_t rxcost;  // 256 * 16 / received, rounded
  };
  const std::vector<Row> rows = {
      {0xFFFF, 256},   // 16/16
      {0x7FFF, 273},   // 4096/15 = 273.07
      {0x00FF, 512},   // 8/16
      {0x5555, 512},   // 8/16, spread out
      {0x0007, 1365},  // 4096/3 = 1365.33
      {0x0001, 4096},  // 1/16
  };
  for (const Row& r : rows) EXPECT_EQ(EtxRxcost(r.history).value(), r.rxcost) << r.history;
  EXPECT_TRUE(EtxRxcost(0).IsInfinite());
}

TEST(LinkCostTest, TwoOutOfThreeCostIsTxcostWhenRxcostFinite) {
  EXPECT_EQ(LinkCost(Metric(96), Metric(96), LinkQuality::kTwoOutOfThree), Metric(96));
  EXPECT_EQ(LinkCost(Metric(96), Metric(200), LinkQuality::kTwoOutOfThree), Metric(200));
  EXPECT_EQ(LinkCost(kInf, Metric(96), LinkQuality::kTwoOutOfThree), kInf);
  EXPECT_EQ(LinkCost(Metric(96), kInf, LinkQuality::kTwoOutOfThree), kInf);
}

TEST(LinkCostTest, EtxCostHandComputed) {
  struct Row {
    uint16_t rxcost;
    uint16_t txcost;
    Metric cost;  // 256 / (alpha * beta)
  };
  const std::vector<Row> rows = {
      {256, 256, Metric(256)},       // alpha = beta = 1
      {512, 256, Metric(512)},       // beta = 1/2
      {256, 512, Metric(512)},       // alpha = 1/2
      {512, 512, Metric(1024)},      // 1/4
      {96, 96, Metric(256)},         // costs below 256 count as alpha = beta = 1
      {273, 384, Metric(410)},       // 273 * 384 / 256 = 409.5 -> 410
      {4096, 4096, Metric(0xFFFF)},  // 65536 saturates at infinity
      {4096, 2048, Metric(32768)},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(LinkCost(Metric(r.rxcost), Metric(r.txcost), LinkQuality::kEtx), r.cost)
        << r.rxcost << " " << r.txcost;
  }
  EXPECT_EQ(LinkCost(kInf, Metric(256), LinkQuality::kEtx), kInf);
  EXPECT_EQ(LinkCost(Metric(256), kInf, LinkQuality::kEtx), kInf);
}

TEST(LinkCostTest, RxcostDispatchesOnQuality) {
  EXPECT_EQ(Rxcost(0b011, {LinkQuality::kTwoOutOfThree, Metric(96)}), Metric(96));
  EXPECT_EQ(Rxcost(0x00FF, {LinkQuality::kEtx, Metric(96)}), Metric(512));
}

}  // namespace
}  // namespace plexus::babel
