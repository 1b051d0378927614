#include "core/claim_hint.hpp"

namespace dlq::core {

bool
KeyBefore(const ClaimKey &a, const ClaimKey &b) noexcept {
	if (a.priority != b.priority)
		return a.priority < b.priority;
	if (a.run_at != b.run_at)
		return a.run_at < b.run_at;
	return a.id < b.id;
}

void
NoteWrite(ClaimHint &hint, const ClaimKey &key, bool new_writer) noexcept {
	if (KeyBefore(key, hint.start))
		hint.start = key;
	if (KeyBefore(key, hint.claim_start))
		hint.claim_start = key;
	hint.writes++;
	if (new_writer)
		hint.open_writers++;
}

void
NoteUnknownWrite(ClaimHint &hint, bool new_writer) noexcept {
	NoteWrite(hint, kLowestClaimKey, new_writer);
}

void
EndWriter(ClaimHint &hint) noexcept {
	if (hint.open_writers > 0)
		hint.open_writers--;
}

void
ResetHint(ClaimHint &hint) noexcept {
	hint.start = kLowestClaimKey;
	hint.claim_start = kLowestClaimKey;
	hint.claims = 0;
}

ClaimStart
BeginClaim(ClaimHint &hint) noexcept {
	bool at_start = !KeyBefore(hint.start, hint.claim_start) || ++hint.claims % kClaimsPerStartRead == 0;
	return ClaimStart{at_start ? hint.start : hint.claim_start, hint.writes, hint.open_writers == 0, at_start};
}

bool
FinishClaim(ClaimHint &hint, const ClaimStart &begun, const ClaimKey &first_visible, bool seen_waiting,
            const ClaimKey &first_waiting) noexcept {
	if (!begun.may_raise || hint.writes != begun.writes)
		return false;
	// No write since the claim began, so the keys were only raised (by other claims): the claim read
	// from at or below claim_start and saw no entry before first_visible, and none waiting before
	// first_waiting; from start as well when at_start.
	bool moved = false;
	if (begun.at_start && KeyBefore(hint.start, first_visible)) {
		hint.start = first_visible;
		moved = true;
	}
	if (seen_waiting && KeyBefore(hint.claim_start, first_waiting)) {
		hint.claim_start = first_waiting;
		moved = true;
	}
	if (KeyBefore(hint.claim_start, hint.start))
		hint.claim_start = hint.start;
	return moved;
}

bool
FinishClaim(ClaimHint &hint, const ClaimStart &begun, const ClaimKey &first_visible) noexcept {
	return FinishClaim(hint, begun, first_visible, true, first_visible);
}

} // namespace dlq::core
