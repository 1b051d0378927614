#include "core/claim_scan.hpp"

namespace dlq::core {

ClaimScan
BeginClaimScan(int64_t now, int32_t batch, bool paused) noexcept {
	return ClaimScan{now, batch, paused, 0, false, kLowestClaimKey, false, kLowestClaimKey, 0, false, batch <= 0};
}

EntryAction
NextEntry(ClaimScan &scan, const ClaimKey &key, bool running) noexcept {
	if (scan.done)
		return EntryAction::kEndScan;
	if (!scan.seen_first) {
		scan.seen_first = true;
		scan.first_visible = key;
		if (scan.paused) {
			scan.done = true;
			return EntryAction::kEndScan;
		}
	}
	if (!running && !scan.seen_waiting) {
		scan.seen_waiting = true;
		scan.first_waiting = key;
	}
	scan.priority = key.priority;
	if (key.run_at > scan.now) {
		scan.at_future = true;
		return EntryAction::kEndScan;
	}
	return running ? EntryAction::kSkip : EntryAction::kTry;
}

void
NoteTaken(ClaimScan &scan) noexcept {
	scan.taken++;
	if (scan.taken >= scan.batch)
		scan.done = true;
}

bool
NextDescent(ClaimScan &scan, int32_t *above_priority) noexcept {
	// Entries that ran out end the queue; only a future entry leaves higher priorities to read.
	if (scan.done || !scan.at_future)
		return false;
	scan.at_future = false;
	*above_priority = scan.priority;
	return true;
}

} // namespace dlq::core
