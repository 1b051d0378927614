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

ClaimStart
BeginClaim(const ClaimHint &hint) noexcept {
	return ClaimStart{hint.start, hint.writes, hint.open_writers == 0};
}

bool
FinishClaim(ClaimHint &hint, const ClaimStart &begun, const ClaimKey &first_visible) noexcept {
	if (!begun.may_raise || hint.writes != begun.writes || !KeyBefore(hint.start, first_visible))
		return false;
	// No write since the claim began, so the hint was only raised (by other claims): the claim read
	// from at or below it and saw no entry before first_visible.
	hint.start = first_visible;
	return true;
}

} // namespace dlq::core
