// FlatHashMap: an open-addressing hash map (linear probing, backward-shift
// deletion) holding keys and values in one array, for the routing tables
// that a large mesh looks up for every received Update: a lookup usually
// touches one slot, where std::unordered_map walks a bucket and two nodes.
//
//   slots_ (power of two, at most half full)
//   [ - | k1 v1 | k2 v2 | - | - | k3 v3 | ... ]
//          ^ home of k1 = hash(k1) & mask; a key sits at or after its home,
//            with no empty slot in between
//
// No order and no pointer stability: an insertion may move every entry, an
// erasure the entries after it. Iteration visits each entry once, in slot order.
//
// Threading: not thread-safe; each table is owned by one thread.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace plexus::babel {

template <typename K, typename V, typename Hash>
class FlatHashMap {
 public:
  using Entry = std::pair<K, V>;

  V* find(const K& key) {
    const size_t slot = Locate(key);
    return slot == kNone ? nullptr : &slots_[slot]->second;
  }
  const V* find(const K& key) const {
    const size_t slot = Locate(key);
    return slot == kNone ? nullptr : &slots_[slot]->second;
  }
  bool contains(const K& key) const { return Locate(key) != kNone; }
  // Starts loading the slot where a lookup of `key` begins, so that lookups
  // of several keys wait for memory together instead of one after another.
  void Prefetch(const K& key) const {
    if (slots_.empty()) return;
    const auto* slot = reinterpret_cast<const char*>(&slots_[Home(key)]);
    for (size_t offset = 0; offset < sizeof(Slot); offset += kCacheLine) {
      __builtin_prefetch(slot + offset);
    }
  }

  // The value of `key`, default-constructed if new; true when inserted.
  std::pair<V*, bool> try_emplace(const K& key) {
    if (V* existing = find(key)) return {existing, false};
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    size_t slot = Home(key);
    while (slots_[slot]) slot = Next(slot);
    slots_[slot].emplace(key, V{});
    ++size_;
    return {&slots_[slot]->second, true};
  }
  V& operator[](const K& key) { return *try_emplace(key).first; }

  // Removes `key`; returns how many entries were removed (0 or 1).
  size_t erase(const K& key) {
    size_t hole = Locate(key);
    if (hole == kNone) return 0;
    slots_[hole].reset();
    --size_;
    // Backward shift: move later entries of the run into the hole when the
    // hole lies on their probe path (between their home and their slot).
    for (size_t slot = Next(hole); slots_[slot]; slot = Next(slot)) {
      const size_t home = Home(slots_[slot]->first);
      if (Distance(home, slot) < Distance(hole, slot)) continue;
      slots_[hole] = std::move(slots_[slot]);
      slots_[slot].reset();
      hole = slot;
    }
    return 1;
  }

  // Removes every entry for which `pred(key, value)` holds; returns how many.
  template <typename Pred>
  size_t erase_if(Pred pred) {
    std::vector<K> doomed;
    for (const auto& [key, value] : *this) {
      if (pred(key, value)) doomed.push_back(key);
    }
    for (const K& key : doomed) erase(key);
    return doomed.size();
  }

  void clear() {
    slots_.clear();
    size_ = 0;
    shift_ = 64;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Iteration over the occupied slots (entries as std::pair<K, V>).
  template <typename Slots, typename Value>
  class Iterator {
   public:
    Iterator(Slots* slots, size_t i) : slots_(slots), i_(i) { Skip(); }
    Value& operator*() const { return *(*slots_)[i_]; }
    Value* operator->() const { return &*(*slots_)[i_]; }
    Iterator& operator++() {
      ++i_;
      Skip();
      return *this;
    }
    bool operator==(const Iterator& other) const { return i_ == other.i_; }

   private:
    void Skip() {
      while (i_ < slots_->size() && !(*slots_)[i_]) ++i_;
    }
    Slots* slots_;
    size_t i_;
  };
  using Slot = std::optional<Entry>;
  using Slots = std::vector<Slot>;
  using iterator = Iterator<Slots, Entry>;
  using const_iterator = Iterator<const Slots, const Entry>;
  iterator begin() { return {&slots_, 0}; }
  iterator end() { return {&slots_, slots_.size()}; }
  const_iterator begin() const { return {&slots_, 0}; }
  const_iterator end() const { return {&slots_, slots_.size()}; }

 private:
  static constexpr size_t kNone = ~size_t{0};
  static constexpr size_t kMinSlots = 16;
  static constexpr size_t kCacheLine = 64;

  size_t Mask() const { return slots_.size() - 1; }
  // Fibonacci hashing: the top bits of hash * 2^64/phi, which depend on
  // every bit of the hash.
  size_t Home(const K& key) const {
    return static_cast<size_t>((uint64_t{Hash{}(key)} * 0x9e3779b97f4a7c15ULL) >> shift_);
  }
  size_t Next(size_t slot) const { return (slot + 1) & Mask(); }
  // Probe steps from `from` forward to `to`, wrapping.
  size_t Distance(size_t from, size_t to) const { return (to - from) & Mask(); }

  size_t Locate(const K& key) const {
    if (slots_.empty()) return kNone;
    for (size_t slot = Home(key); slots_[slot]; slot = Next(slot)) {
      if (slots_[slot]->first == key) return slot;
    }
    return kNone;
  }

  void Grow() {
    Slots old = std::move(slots_);
    slots_ = Slots(old.empty() ? kMinSlots : old.size() * 2);
    shift_ = 64 - std::countr_zero(slots_.size());
    for (std::optional<Entry>& entry : old) {
      if (!entry) continue;
      size_t slot = Home(entry->first);
      while (slots_[slot]) slot = Next(slot);
      slots_[slot] = std::move(entry);
    }
  }

  Slots slots_;
  size_t size_ = 0;
  int shift_ = 64;
};

}  // namespace plexus::babel
