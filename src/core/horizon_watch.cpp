#include "core/horizon_watch.hpp"

namespace dlq::core {

bool
ObserveHorizon(HorizonWatch &watch, const HorizonObservation &seen, const HorizonPolicy &policy,
               int64_t *held_us, int64_t *added_dead_rows) noexcept {
	*held_us = 0;
	*added_dead_rows = 0;
	if (!seen.has_horizon) {
		watch = HorizonWatch{};
		return false;
	}
	if (!watch.seen || watch.horizon != seen.horizon) {
		watch = HorizonWatch{true, seen.horizon, seen.now_us, seen.dead_rows < 0 ? -1 : seen.dead_rows, 0, 0, 0};
		return false;
	}
	*held_us = seen.now_us > watch.first_seen_us ? seen.now_us - watch.first_seen_us : 0;
	if (seen.dead_rows < 0)
		return false;
	if (watch.fewest_dead_rows < 0 || seen.dead_rows < watch.fewest_dead_rows)
		watch.fewest_dead_rows = seen.dead_rows;
	*added_dead_rows = seen.dead_rows - watch.fewest_dead_rows;
	if (policy.threshold_us <= 0 || *held_us < policy.threshold_us || *added_dead_rows < policy.min_dead_rows)
		return false;
	if (watch.last_warned_us != 0 && seen.now_us - watch.last_warned_us < policy.threshold_us)
		return false;
	watch.last_warned_us = seen.now_us;
	return true;
}

bool
CompactionDue(const HorizonWatch &watch, int64_t now_us, int64_t held_us, int64_t added_dead_rows,
              const CompactionPolicy &policy) noexcept {
	return policy.min_dead_rows > 0 && watch.seen && held_us > 0 && added_dead_rows >= policy.min_dead_rows &&
	       now_us >= watch.compact_not_before_us;
}

void
NoteCompaction(HorizonWatch &watch, CompactionResult result, int64_t now_us, const CompactionPolicy &policy) noexcept {
	switch (result) {
	case CompactionResult::kCompacted:
		watch.compactions++;
		watch.fewest_dead_rows = 0; // the truncation emptied the count; what is seen next was added since
		watch.compact_not_before_us = 0;
		break;
	case CompactionResult::kRefused:
		break;
	case CompactionResult::kGaveUp:
		watch.compact_not_before_us = now_us + policy.retry_after_us;
		break;
	}
}

} // namespace dlq::core
