// A compact open-addressing hash index from a key (owned by the caller's records) to a 32-bit record
// id. Slots hold only the key's hash and the id (8 bytes), so an index costs about 14 bytes per entry
// at its average load; keys are compared by the caller's predicate on the record itself. This keeps
// the reference NAT under its memory budget per session where std::unordered_map would not.
#pragma once

#include <cstdint>
#include <vector>

namespace natcert::ref::detail {

class FlatIndex {
 public:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  static constexpr std::uint32_t kTombstone = 0xfffffffeu;

  FlatIndex() { slots_.resize(16, Slot{0, kEmpty}); }

  // Returns the id of the first record with this hash for which `matches(id)` holds, or kEmpty.
  template <class Matches>
  std::uint32_t find(std::uint32_t hash, Matches&& matches) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.id == kEmpty) return kEmpty;
      if (slot.id != kTombstone && slot.hash == hash && matches(slot.id)) return slot.id;
    }
  }

  void insert(std::uint32_t hash, std::uint32_t id) {
    if ((used_ + tombstones_ + 1) * 4 > slots_.size() * 3) rehash(used_ * 2 + 16);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id == kEmpty || slot.id == kTombstone) {
        if (slot.id == kTombstone) --tombstones_;
        slot = Slot{hash, id};
        ++used_;
        return;
      }
    }
  }

  // Removes the entry (hash, id) if present.
  void erase(std::uint32_t hash, std::uint32_t id) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id == kEmpty) return;
      if (slot.id == id && slot.hash == hash) {
        slot.id = kTombstone;
        --used_;
        ++tombstones_;
        return;
      }
    }
  }

  // Points an existing entry (hash, old_id) at new_id (used when a port-overloading NAT lets a newer
  // session shadow an older one with the same key).
  void replace(std::uint32_t hash, std::uint32_t old_id, std::uint32_t new_id) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id == kEmpty) return;
      if (slot.id == old_id && slot.hash == hash) {
        slot.id = new_id;
        return;
      }
    }
  }

  void clear() {
    slots_.assign(16, Slot{0, kEmpty});
    used_ = tombstones_ = 0;
  }

  std::size_t size() const { return used_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    std::uint32_t hash;
    std::uint32_t id;
  };

  void rehash(std::size_t wanted) {
    std::size_t capacity = 16;
    while (capacity * 3 < wanted * 4) capacity *= 2;
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{0, kEmpty});
    used_ = tombstones_ = 0;
    for (const Slot& slot : old) {
      if (slot.id != kEmpty && slot.id != kTombstone) insert(slot.hash, slot.id);
    }
  }

  std::vector<Slot> slots_;
  std::size_t used_ = 0;
  std::size_t tombstones_ = 0;
};

// 64-bit mix (splitmix64 finaliser) folded to 32 bits: good avalanche for packed endpoint keys.
inline std::uint32_t mix_hash(std::uint64_t a, std::uint64_t b = 0) {
  std::uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ull);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return static_cast<std::uint32_t>(x ^ (x >> 32));
}

}  // namespace natcert::ref::detail
