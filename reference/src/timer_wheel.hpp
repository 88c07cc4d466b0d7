// A hashed timer wheel with lazy rescheduling: refreshing a record only moves its deadline in the
// record; the wheel entry notices when its slot comes due and reschedules itself. Scheduling and
// firing are O(1) amortized, and nothing ever scans the whole state. Expiry is exact regardless of
// the wheel's granularity, because lookups check the record's own deadline; the wheel only reclaims.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "natcert/reference/config.hpp"

namespace natcert::ref::detail {

class TimerWheel {
 public:
  struct Entry {
    std::uint32_t id;
    std::uint32_t generation;
  };

  explicit TimerWheel(Duration tick = std::chrono::seconds(1), std::size_t slots = 1024)
      : tick_(tick.count()), slots_(slots), occupied_((slots + 63) / 64, 0) {}

  void schedule(std::uint32_t id, std::uint32_t generation, TimePoint deadline) {
    const std::int64_t due = std::max<std::int64_t>(deadline.count() / tick_, current_tick_ + 1);
    const std::size_t index = static_cast<std::size_t>(due) % slots_.size();
    slots_[index].push_back(Entry{id, generation});
    occupied_[index / 64] |= std::uint64_t{1} << (index % 64);
    ++entries_;
  }

  // Hands every entry of each slot that came due by `now` to `fire(entry)`; `fire` decides whether the
  // record expired or must be scheduled again (it may call schedule()).
  template <class Fire>
  void advance(TimePoint now, Fire&& fire) {
    const std::int64_t target = now.count() / tick_;
    if (target <= current_tick_) return;
    // Past a full turn every slot is visited once; later-round entries simply reschedule.
    const std::int64_t first = std::max(current_tick_ + 1, target - static_cast<std::int64_t>(slots_.size()) + 1);
    current_tick_ = target;
    for (std::int64_t tick = first; tick <= target; ++tick) {
      const std::size_t index = static_cast<std::size_t>(tick) % slots_.size();
      std::vector<Entry>& slot = slots_[index];
      if (slot.empty()) continue;
      occupied_[index / 64] &= ~(std::uint64_t{1} << (index % 64));
      scratch_.clear();
      scratch_.swap(slot);
      entries_ -= scratch_.size();
      for (const Entry& entry : scratch_) fire(entry);
    }
  }

  // Visits only the occupied slots: the fuzz targets clear the wheel once per input.
  void clear() {
    for (std::size_t word = 0; word < occupied_.size(); ++word) {
      for (std::uint64_t bits = occupied_[word]; bits != 0; bits &= bits - 1) {
        slots_[word * 64 + static_cast<std::size_t>(std::countr_zero(bits))].clear();
      }
      occupied_[word] = 0;
    }
    entries_ = 0;
  }
  // clear(), and time starts again from zero.
  void rewind() {
    clear();
    current_tick_ = 0;
  }
  std::size_t size() const { return entries_; }

 private:
  std::int64_t tick_;
  std::int64_t current_tick_ = 0;
  std::vector<std::vector<Entry>> slots_;
  std::vector<std::uint64_t> occupied_;  // one bit per slot that may hold entries
  std::vector<Entry> scratch_;
  std::size_t entries_ = 0;
};

}  // namespace natcert::ref::detail
