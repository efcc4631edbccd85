#pragma once
// The open-case table of the monitor, one lock stripe of it: a bounded
// open-addressing hash table of case records, a least-recently-active list of
// open cases (evicted first when the stripe is full) and a FIFO cache of
// recently completed cases. Records and their event rings come from pools that
// only grow, so folding an event of a known case allocates nothing.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "civicperf/snapshot.hpp"
#include "civicperf/step_result.hpp"
#include "spinlock.hpp"

namespace civicperf::detail {

inline constexpr std::int64_t no_time = std::numeric_limits<std::int64_t>::min();

/// Flags of an execution, kept with the event so a superseded one can be undone.
enum event_flag : std::uint8_t {
  flag_approval = 1,
  flag_external = 2,
  flag_long_queue = 4,
  flag_blocked = 8,
};

/// One execution as the case fold sees it (times in microseconds).
struct case_event {
  std::uint32_t workflow = 0;
  std::uint32_t step = 0;
  step_status status = step_status::pending;
  std::uint8_t flags = 0;
  bool waiting = false;        ///< approval or external service: not active time
  bool terminal = false;       ///< the step is a terminal step
  std::int64_t start_us = 0;   ///< started_at (queued_at / completed_at when absent)
  std::int64_t end_us = 0;     ///< completed_at, else start_us
  std::int64_t first_us = 0;   ///< queued_at, else start_us
  std::int64_t completed_us = no_time;
  std::int64_t exec_us = no_time;
  std::string_view terminal_status;
};

/// What folding one event did to its case.
struct fold_result {
  bool joined = false;          ///< the event was folded into a case
  bool opened = false;          ///< it opened a new case
  bool superseded = false;      ///< it completed the case's pending/running execution
  step_status superseded_status = step_status::pending;
  std::uint8_t superseded_flags = 0;
  bool has_transition = false;
  std::uint32_t from_step = 0;
  std::int64_t transition_us = 0;
  bool completed = false;       ///< the case completed
  std::int64_t completion_us = 0;
  std::int64_t active_us = 0;
  std::string_view terminal_status;
  bool evicted = false;         ///< another open case was evicted to make room
  std::uint32_t evicted_workflow = 0;
};

/// A case as copied out for a snapshot (step indices, not ids).
struct case_copy {
  bool completed = false;
  std::string terminal_status;
  std::int64_t total_events = 0;
  std::int64_t first_us = 0;
  std::int64_t last_us = 0;
  std::int64_t active_us = 0;
  struct event {
    std::uint32_t step;
    step_status status;
    bool waiting;
    std::int64_t started_us;
    std::int64_t completed_us;
    std::int64_t exec_us;
  };
  std::vector<event> events;
};

class instance_stripe {
 public:
  instance_stripe(std::size_t open_capacity, std::size_t recent_capacity,
                  std::size_t events_per_case);

  /// Folds one event. Caller holds `lock`.
  fold_result fold(std::string_view id, std::uint64_t hash, const case_event& e) noexcept;
  /// Completes an open case explicitly. Caller holds `lock`.
  fold_result complete(std::string_view id, std::uint64_t hash, std::uint32_t workflow,
                       std::string_view terminal_status) noexcept;
  /// Copies a case out. Caller holds `lock`.
  bool copy(std::string_view id, std::uint64_t hash, std::uint32_t workflow, case_copy& out) const;
  [[nodiscard]] std::size_t open_count() const noexcept { return open_count_; }

  spinlock lock;

 private:
  static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::uint32_t chunk_records = 64;

  struct packed_event {
    std::int64_t started_us;
    std::int64_t completed_us;
    std::int64_t exec_us;
    std::uint32_t step;
    step_status status;
    bool waiting;
  };

  struct record {
    std::string id;
    std::string terminal_status;
    std::uint64_t hash = 0;
    std::uint32_t workflow = 0;
    std::uint32_t generation = 0;   // bumped when freed, so stale cache entries are recognised
    bool completed = false;
    std::int64_t first_us = 0;
    std::int64_t last_us = 0;
    std::int64_t active_us = 0;
    std::int64_t total_events = 0;
    std::int64_t last_end_us = 0;
    std::uint32_t last_step = 0;
    step_status last_status = step_status::pending;
    std::uint8_t last_flags = 0;
    std::uint32_t ring_head = 0;    // oldest kept event
    std::uint32_t ring_size = 0;
    std::uint32_t prev = npos;      // least-recently-active list of open cases
    std::uint32_t next = npos;
  };

  struct cached {
    std::uint32_t index;
    std::uint32_t generation;
  };

  record& rec(std::uint32_t i) noexcept { return records_[i / chunk_records][i % chunk_records]; }
  const record& rec(std::uint32_t i) const noexcept {
    return records_[i / chunk_records][i % chunk_records];
  }
  packed_event* events_of(std::uint32_t i) noexcept;
  const packed_event* events_of(std::uint32_t i) const noexcept;

  std::uint32_t find(std::string_view id, std::uint64_t hash, std::uint32_t workflow) const noexcept;
  std::uint32_t allocate();   // may throw std::bad_alloc
  void release(std::uint32_t i) noexcept;
  void table_insert(std::uint32_t i) noexcept;
  void table_erase(std::uint32_t i) noexcept;
  void lru_unlink(std::uint32_t i) noexcept;
  void lru_push_back(std::uint32_t i) noexcept;
  void push_event(record& r, std::uint32_t i, const case_event& e) noexcept;
  void finish(std::uint32_t i, std::string_view terminal_status, fold_result& out) noexcept;

  std::size_t open_capacity_;
  std::size_t recent_capacity_;
  std::size_t events_per_case_;

  std::vector<std::unique_ptr<record[]>> records_;
  std::vector<std::unique_ptr<packed_event[]>> event_chunks_;
  std::uint32_t record_count_ = 0;   // records ever created
  std::vector<std::uint32_t> free_;

  std::vector<std::uint32_t> slots_;   // record index + 1; 0 = empty
  std::uint64_t slot_mask_ = 0;

  std::uint32_t lru_head_ = npos;
  std::uint32_t lru_tail_ = npos;
  std::size_t open_count_ = 0;

  std::vector<cached> recent_;   // ring buffer of completed cases
  std::size_t recent_head_ = 0;
  std::size_t recent_size_ = 0;
};

}  // namespace civicperf::detail
