// A hashed timer wheel with lazy rescheduling: refreshing a record only moves its deadline in the
// record; the wheel entry notices when its slot comes due and reschedules itself. Scheduling and
// firing are O(1) amortized, and nothing ever scans the whole state. Expiry is exact regardless of
// the wheel's granularity, because lookups check the record's own deadline; the wheel only reclaims.
#pragma once

#include <algorithm>
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
      : tick_(tick.count()), slots_(slots) {}

  void schedule(std::uint32_t id, std::uint32_t generation, TimePoint deadline) {
    const std::int64_t due = std::max<std::int64_t>(deadline.count() / tick_, current_tick_ + 1);
    slots_[static_cast<std::size_t>(due) % slots_.size()].push_back(Entry{id, generation});
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
      std::vector<Entry>& slot = slots_[static_cast<std::size_t>(tick) % slots_.size()];
      if (slot.empty()) continue;
      scratch_.clear();
      scratch_.swap(slot);
      entries_ -= scratch_.size();
      for (const Entry& entry : scratch_) fire(entry);
    }
  }

  void clear() {
    for (auto& slot : slots_) slot.clear();
    entries_ = 0;
  }
  std::size_t size() const { return entries_; }

 private:
  std::int64_t tick_;
  std::int64_t current_tick_ = 0;
  std::vector<std::vector<Entry>> slots_;
  std::vector<Entry> scratch_;
  std::size_t entries_ = 0;
};

}  // namespace natcert::ref::detail
