#include "core/sweep_bound.hpp"

namespace dlq::core {

void
RaiseLeaseBound(LeaseBound &bound, const ClaimKey &key) noexcept {
	if (bound.overflow)
		return;
	for (int32_t i = 0; i < bound.count; i++) {
		if (bound.highest[i].priority == key.priority) {
			if (KeyBefore(bound.highest[i], key))
				bound.highest[i] = key;
			return;
		}
	}
	if (bound.count == kMaxBoundedPriorities) {
		bound.overflow = true;
		return;
	}
	bound.highest[bound.count++] = key;
}

bool
LeaseBoundOf(const LeaseBound &bound, int32_t priority, ClaimKey *out) noexcept {
	for (int32_t i = 0; i < bound.count; i++) {
		if (bound.highest[i].priority == priority) {
			*out = bound.highest[i];
			return true;
		}
	}
	return false;
}

bool
SweepRangeStart(const ClaimKey &bound, const ClaimKey &hint_start, ClaimKey *from) noexcept {
	if (KeyBefore(bound, hint_start))
		return false;
	if (bound.priority == hint_start.priority)
		*from = hint_start;
	else
		*from = ClaimKey{bound.priority, kLowestClaimKey.run_at, kLowestClaimKey.id};
	return true;
}

void
NoteUnknownSweepWrite(SweepState &state, bool new_writer) noexcept {
	state.bounded = false;
	state.unknown_writes++;
	if (new_writer)
		state.open_unknown_writers++;
}

void
EndUnknownSweepWriter(SweepState &state) noexcept {
	if (state.open_unknown_writers > 0)
		state.open_unknown_writers--;
}

bool
NeedsFullPass(const SweepState &state, int64_t now, int64_t interval) noexcept {
	if (!state.bounded || interval <= 0)
		return true;
	// A clock that went backwards counts as time passed.
	return now < state.last_full_pass || now - state.last_full_pass >= interval;
}

FullPassBegin
BeginFullPass(const SweepState &state, int64_t now) noexcept {
	return FullPassBegin{now, state.unknown_writes, state.open_unknown_writers == 0};
}

bool
FinishFullPass(SweepState &state, const FullPassBegin &begun) noexcept {
	if (!begun.may_bound || state.unknown_writes != begun.unknown_writes)
		return false;
	state.bounded = true;
	state.last_full_pass = begun.started;
	return true;
}

} // namespace dlq::core
