#include "babel/flat_hash_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>

namespace plexus::babel {
namespace {

struct IdentityHash {
  size_t operator()(uint32_t key) const { return key; }
};
// Every key in one of four homes: long runs, wrap-around, many shifts.
struct CollidingHash {
  size_t operator()(uint32_t key) const { return key % 4; }
};

// The map against a naive reference model (std::map) under random inserts,
// erasures and lookups.
template <typename Hash>
void MatchesReferenceModel(uint32_t key_range) {
  FlatHashMap<uint32_t, int, Hash> map;
  std::map<uint32_t, int> model;
  std::mt19937 random(7);
  for (int step = 0; step < 20000; ++step) {
    const uint32_t key = random() % key_range;
    switch (random() % 3) {
      case 0:
        map[key] = step;
        model[key] = step;
        break;
      case 1:
        ASSERT_EQ(map.erase(key), model.erase(key)) << step;
        break;
      default: {
        const int* found = map.find(key);
        const auto it = model.find(key);
        ASSERT_EQ(found != nullptr, it != model.end()) << step;
        if (found != nullptr) {
          ASSERT_EQ(*found, it->second) << step;
        }
      }
    }
    ASSERT_EQ(map.size(), model.size());
  }
  std::map<uint32_t, int> iterated;
  for (const auto& [key, value] : map) iterated.emplace(key, value);
  EXPECT_EQ(iterated, model);
}

TEST(FlatHashMapTest, MatchesReferenceModel) {
  MatchesReferenceModel<IdentityHash>(1000);
}

TEST(FlatHashMapTest, MatchesReferenceModelWithCollidingKeys) {
  MatchesReferenceModel<CollidingHash>(200);
}

TEST(FlatHashMapTest, TryEmplaceKeepsAnExistingValue) {
  FlatHashMap<uint32_t, int, IdentityHash> map;
  auto [value, inserted] = map.try_emplace(5);
  EXPECT_TRUE(inserted);
  *value = 3;
  auto [again, inserted_again] = map.try_emplace(5);
  EXPECT_FALSE(inserted_again);
  EXPECT_EQ(*again, 3);
  EXPECT_TRUE(map.contains(5));
  EXPECT_FALSE(map.contains(6));
}

TEST(FlatHashMapTest, EraseIfRemovesExactlyTheMatchingEntries) {
  FlatHashMap<uint32_t, int, CollidingHash> map;
  for (uint32_t k = 0; k < 100; ++k) map[k] = static_cast<int>(k);
  EXPECT_EQ(map.erase_if([](uint32_t, int value) { return value % 3 == 0; }), 34u);
  EXPECT_EQ(map.size(), 66u);
  for (uint32_t k = 0; k < 100; ++k) EXPECT_EQ(map.contains(k), k % 3 != 0) << k;
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find(1), nullptr);
}

}  // namespace
}  // namespace plexus::babel
