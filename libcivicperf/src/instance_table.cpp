#include "instance_table.hpp"

#include <algorithm>
#include <bit>
#include <new>

#include "saturating.hpp"

namespace civicperf::detail {

instance_stripe::instance_stripe(std::size_t open_capacity, std::size_t recent_capacity,
                                 std::size_t events_per_case)
    : open_capacity_(std::max<std::size_t>(open_capacity, 1)),
      recent_capacity_(recent_capacity),
      events_per_case_(events_per_case),
      recent_(recent_capacity) {
  // Load factor at most 1/2 even when every record is live.
  const std::size_t slots = std::bit_ceil(2 * (open_capacity_ + recent_capacity_ + 1));
  slots_.assign(slots, 0);
  slot_mask_ = slots - 1;
}

instance_stripe::packed_event* instance_stripe::events_of(std::uint32_t i) noexcept {
  if (events_per_case_ == 0) return nullptr;
  return event_chunks_[i / chunk_records].get() + (i % chunk_records) * events_per_case_;
}

const instance_stripe::packed_event* instance_stripe::events_of(std::uint32_t i) const noexcept {
  if (events_per_case_ == 0) return nullptr;
  return event_chunks_[i / chunk_records].get() + (i % chunk_records) * events_per_case_;
}

std::uint32_t instance_stripe::find(std::string_view id, std::uint64_t hash,
                                    std::uint32_t workflow) const noexcept {
  for (std::uint64_t s = hash & slot_mask_;; s = (s + 1) & slot_mask_) {
    const std::uint32_t v = slots_[s];
    if (v == 0) return npos;
    const record& r = rec(v - 1);
    if (r.hash == hash && r.workflow == workflow && r.id == id) return v - 1;
  }
}

std::uint32_t instance_stripe::allocate() {
  if (!free_.empty()) {
    const std::uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }
  if (record_count_ % chunk_records == 0) {
    records_.push_back(std::make_unique<record[]>(chunk_records));
    if (events_per_case_ != 0) {
      try {
        event_chunks_.push_back(
            std::make_unique_for_overwrite<packed_event[]>(chunk_records * events_per_case_));
      } catch (...) {
        records_.pop_back();
        throw;
      }
    }
    // Reserve room for the free list once, so releasing never allocates.
    free_.reserve(static_cast<std::size_t>(record_count_) + chunk_records);
  }
  return record_count_++;
}

void instance_stripe::release(std::uint32_t i) noexcept {
  record& r = rec(i);
  ++r.generation;
  r.completed = false;
  free_.push_back(i);   // capacity reserved in allocate()
}

void instance_stripe::table_insert(std::uint32_t i) noexcept {
  std::uint64_t s = rec(i).hash & slot_mask_;
  while (slots_[s] != 0) s = (s + 1) & slot_mask_;
  slots_[s] = i + 1;
}

// Backward-shift deletion keeps linear probing free of tombstones.
void instance_stripe::table_erase(std::uint32_t i) noexcept {
  std::uint64_t s = rec(i).hash & slot_mask_;
  while (slots_[s] != i + 1) s = (s + 1) & slot_mask_;
  std::uint64_t hole = s;
  for (std::uint64_t j = (hole + 1) & slot_mask_; slots_[j] != 0; j = (j + 1) & slot_mask_) {
    const std::uint64_t home = rec(slots_[j] - 1).hash & slot_mask_;
    // Move j into the hole when its home is not cyclically within (hole, j].
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = 0;
}

void instance_stripe::lru_unlink(std::uint32_t i) noexcept {
  record& r = rec(i);
  if (r.prev != npos) rec(r.prev).next = r.next; else lru_head_ = r.next;
  if (r.next != npos) rec(r.next).prev = r.prev; else lru_tail_ = r.prev;
  r.prev = r.next = npos;
}

void instance_stripe::lru_push_back(std::uint32_t i) noexcept {
  record& r = rec(i);
  r.prev = lru_tail_;
  r.next = npos;
  if (lru_tail_ != npos) rec(lru_tail_).next = i; else lru_head_ = i;
  lru_tail_ = i;
}

void instance_stripe::push_event(record& r, std::uint32_t i, const case_event& e) noexcept {
  if (events_per_case_ == 0) return;
  packed_event* ring = events_of(i);
  std::uint32_t slot;
  if (r.ring_size < events_per_case_) {
    slot = static_cast<std::uint32_t>((r.ring_head + r.ring_size) % events_per_case_);
    ++r.ring_size;
  } else {   // full: overwrite the oldest
    slot = r.ring_head;
    r.ring_head = static_cast<std::uint32_t>((r.ring_head + 1) % events_per_case_);
  }
  ring[slot] = packed_event{e.start_us, e.completed_us, e.exec_us, e.step, e.status, e.waiting};
}

void instance_stripe::finish(std::uint32_t i, std::string_view terminal_status,
                             fold_result& out) noexcept {
  record& r = rec(i);
  out.completed = true;
  out.completion_us = saturating_sub(r.last_us, r.first_us);
  out.active_us = r.active_us;
  r.completed = true;
  r.terminal_status.clear();
  try {
    r.terminal_status.assign(terminal_status);
  } catch (...) {   // keeps the case; only the label is lost
  }
  out.terminal_status = terminal_status;
  lru_unlink(i);
  --open_count_;
  if (recent_capacity_ == 0) {
    table_erase(i);
    release(i);
    return;
  }
  if (recent_size_ == recent_capacity_) {
    const cached old = recent_[recent_head_];
    recent_head_ = (recent_head_ + 1) % recent_capacity_;
    --recent_size_;
    const record& o = rec(old.index);
    if (o.generation == old.generation && o.completed) {
      table_erase(old.index);
      release(old.index);
    }
  }
  recent_[(recent_head_ + recent_size_) % recent_capacity_] = cached{i, r.generation};
  ++recent_size_;
}

fold_result instance_stripe::fold(std::string_view id, std::uint64_t hash,
                                  const case_event& e) noexcept {
  fold_result out;
  std::uint32_t i = find(id, hash, e.workflow);
  if (i != npos && rec(i).completed) {
    // A late event of a recently completed case (a notification sent after
    // the terminal step, say): it counts for its step, but the case stays
    // as it completed. Only once the case has left the recent cache does its
    // id start a new case.
    return out;
  }
  if (i == npos) {
    if (open_count_ >= open_capacity_ && lru_head_ != npos) {
      const std::uint32_t victim = lru_head_;
      out.evicted = true;
      out.evicted_workflow = rec(victim).workflow;
      lru_unlink(victim);
      table_erase(victim);
      release(victim);
      --open_count_;
    }
    try {
      i = allocate();
      rec(i).id.assign(id);
    } catch (...) {
      if (i != npos) release(i);
      return out;   // out of memory: the event still counts for its step
    }
    record& r = rec(i);
    r.hash = hash;
    r.workflow = e.workflow;
    r.completed = false;
    r.terminal_status.clear();
    r.first_us = std::min(e.first_us, e.start_us);
    r.last_us = e.end_us;
    r.active_us = (!e.waiting && e.exec_us != no_time) ? e.exec_us : 0;
    r.total_events = 1;
    r.last_end_us = e.end_us;
    r.last_step = e.step;
    r.last_status = e.status;
    r.last_flags = e.flags;
    r.ring_head = 0;
    r.ring_size = 0;
    push_event(r, i, e);
    table_insert(i);
    lru_push_back(i);
    ++open_count_;
    out.joined = true;
    out.opened = true;
  } else {
    record& r = rec(i);
    lru_unlink(i);
    lru_push_back(i);
    const bool in_progress =
        r.last_status == step_status::pending || r.last_status == step_status::running;
    if (r.last_step == e.step && in_progress) {
      // The same execution finishing (an approval decided): replace it.
      out.superseded = true;
      out.superseded_status = r.last_status;
      out.superseded_flags = r.last_flags;
      if (events_per_case_ != 0 && r.ring_size > 0) {
        const auto newest = static_cast<std::uint32_t>((r.ring_head + r.ring_size - 1) % events_per_case_);
        events_of(i)[newest] =
            packed_event{e.start_us, e.completed_us, e.exec_us, e.step, e.status, e.waiting};
      }
    } else {
      out.has_transition = true;
      out.from_step = r.last_step;
      out.transition_us = saturating_sub(e.start_us, r.last_end_us);
      ++r.total_events;
      push_event(r, i, e);
    }
    r.first_us = std::min({r.first_us, e.first_us, e.start_us});
    r.last_us = std::max(r.last_us, e.end_us);
    if (!e.waiting && e.exec_us != no_time) add_to(r.active_us, e.exec_us);
    r.last_end_us = e.end_us;
    r.last_step = e.step;
    r.last_status = e.status;
    r.last_flags = e.flags;
    out.joined = true;
  }
  if (e.terminal && e.status == step_status::completed) finish(i, e.terminal_status, out);
  return out;
}

fold_result instance_stripe::complete(std::string_view id, std::uint64_t hash,
                                      std::uint32_t workflow,
                                      std::string_view terminal_status) noexcept {
  fold_result out;
  const std::uint32_t i = find(id, hash, workflow);
  if (i == npos || rec(i).completed) return out;
  out.joined = true;
  finish(i, terminal_status, out);
  return out;
}

bool instance_stripe::copy(std::string_view id, std::uint64_t hash, std::uint32_t workflow,
                           case_copy& out) const {
  const std::uint32_t i = find(id, hash, workflow);
  if (i == npos) return false;
  const record& r = rec(i);
  out.completed = r.completed;
  out.terminal_status = r.terminal_status;
  out.total_events = r.total_events;
  out.first_us = r.first_us;
  out.last_us = r.last_us;
  out.active_us = r.active_us;
  out.events.clear();
  const packed_event* ring = events_of(i);
  for (std::uint32_t k = 0; k < r.ring_size; ++k) {
    const packed_event& p = ring[(r.ring_head + k) % events_per_case_];
    out.events.push_back({p.step, p.status, p.waiting, p.started_us, p.completed_us, p.exec_us});
  }
  return true;
}

}  // namespace civicperf::detail
