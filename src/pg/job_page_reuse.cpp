// See job_page_reuse.hpp. The prune is heap_page_prune_opt's (pruneheap.c), whatever the page's free
// space, and the recording is vacuum's (RecordPageWithFreeSpace, then the map's upper levels).
#include "pg/job_page_reuse.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/transam.h"
#include "access/xlog.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/freespace.h"
#include "utils/snapmgr.h"
}

namespace dlq::pg::store {

namespace {

// A batch of 100 leaves about 7 pages; a page is ready once its jobs are done, typically a few
// enqueues later.
constexpr int kRemembered = 64;
// Pages looked at per enqueue at most, so that one enqueue never pays for many.
constexpr int kLookedAtPerWrite = 8;
// A page still short of room (a job on it not done yet) is looked at again this many times.
constexpr uint8 kMostLooks = 3;
// Room worth offering: the fillfactor's reserve (an insert leaves it free) and a small job.
constexpr Size kSmallJob = 256;
// A page offered again must keep line pointers for the new versions of its jobs' claims (HOT updates):
// deleted jobs leave theirs until a vacuum, up to MaxHeapTuplesPerPage (291).
constexpr OffsetNumber kMostLinePointers = 160;

// The pages this backend's enqueues left, oldest first, of one storage of dlq.job (a compaction or
// TRUNCATE gives the table new storage, where these block numbers mean nothing).
struct LeftPage {
	BlockNumber block;
	uint8 looks;
};
struct LeftPages {
	Oid relfilenode;
	LeftPage pages[kRemembered];
	int first;
	int count;
};
LeftPages left = {InvalidOid, {}, 0, 0};

void
PushBack(LeftPage page) {
	if (left.count == kRemembered) { // forget the oldest: vacuum reclaims it
		left.first = (left.first + 1) % kRemembered;
		left.count--;
	}
	left.pages[(left.first + left.count) % kRemembered] = page;
	left.count++;
}

void
PushFront(LeftPage page) {
	if (left.count == kRemembered)
		return;
	left.first = (left.first + kRemembered - 1) % kRemembered;
	left.pages[left.first] = page;
	left.count++;
}

// Taken off before it is looked at, so that a page that raises an error (a damaged page) is not looked
// at again by every later enqueue.
LeftPage
PopFront() {
	LeftPage page = left.pages[left.first];
	left.first = (left.first + 1) % kRemembered;
	left.count--;
	return page;
}

void
Remember(BlockNumber block) {
	if (left.count > 0 && left.pages[(left.first + left.count - 1) % kRemembered].block == block)
		return;
	PushBack({block, 0});
}

enum class Looked {
	kNotYet,   // its deleted rows may still be seen: so may those of every page left after it
	kShort,    // pruned, or nothing to prune, but short of room: a job on it is not done yet
	kOffered,  // its room is in the free space map
	kSkipped,  // in use by another backend, or out of line pointers: left to vacuum
};

// Prunes `block` once its deleted rows are invisible to every transaction, and records its free space.
Looked
PruneAndRecord(Relation rel, BlockNumber block, GlobalVisState *vistest) {
	Buffer buffer = ReadBuffer(rel, block);
	Page page = BufferGetPage(buffer);
	// Read without the lock, as heap_page_prune_opt does: a hint, checked by the prune under the lock.
	TransactionId prune_xid = ((PageHeader)page)->pd_prune_xid;
	if (TransactionIdIsValid(prune_xid) && !GlobalVisTestIsRemovableXid(vistest, prune_xid)) {
		ReleaseBuffer(buffer);
		return Looked::kNotYet;
	}
	if (TransactionIdIsValid(prune_xid)) {
		if (!ConditionalLockBufferForCleanup(buffer)) {
			ReleaseBuffer(buffer);
			return Looked::kSkipped;
		}
		int new_dead_items = 0;
		int deleted = heap_page_prune(rel, buffer, InvalidTransactionId, vistest, InvalidTransactionId, 0,
		                              &new_dead_items, nullptr);
		// As heap_page_prune_opt reports it: tuples gone for good, not those left as dead line pointers.
		if (deleted > new_dead_items)
			pgstat_update_heap_dead_tuples(rel, deleted - new_dead_items);
	} else {
		// Nothing to prune: pruned already on access, or its jobs not claimed yet.
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
	}
	Size free_space = PageGetHeapFreeSpace(page);
	bool crowded = PageGetMaxOffsetNumber(page) > kMostLinePointers;
	UnlockReleaseBuffer(buffer);
	if (crowded)
		return Looked::kSkipped;
	if (free_space < RelationGetTargetPageFreeSpace(rel, HEAP_DEFAULT_FILLFACTOR) + kSmallJob)
		return Looked::kShort;
	RecordPageWithFreeSpace(rel, block, free_space);
	// The map's upper levels too: an insert whose own page is full searches from there.
	FreeSpaceMapVacuumRange(rel, block, block + 1);
	return Looked::kOffered;
}

} // namespace

BlockNumber
ReuseLeftPages(Relation job_rel) {
	if (left.relfilenode != job_rel->rd_node.relNode) {
		left.relfilenode = job_rel->rd_node.relNode;
		left.first = left.count = 0;
	}
	BlockNumber tried_first = RelationGetTargetBlock(job_rel);
	if (left.count == 0 || RecoveryInProgress())
		return tried_first;
	GlobalVisState *vistest = GlobalVisTestFor(job_rel);
	BlockNumber blocks = RelationGetNumberOfBlocks(job_rel);
	for (int looked = 0; left.count > 0 && looked < kLookedAtPerWrite; looked++) {
		LeftPage page = PopFront();
		if (page.block >= blocks) // cut off by a vacuum
			continue;
		Looked outcome = PruneAndRecord(job_rel, page.block, vistest);
		if (outcome == Looked::kNotYet) {
			PushFront(page);
			break; // the pages left after it are not ready either
		}
		if (outcome == Looked::kShort && ++page.looks < kMostLooks)
			PushBack(page);
	}
	return tried_first;
}

void
NoteLeftPages(Relation job_rel, BlockNumber tried_first, const BlockNumber *written, int count) {
	if (count == 0 || left.relfilenode != job_rel->rd_node.relNode)
		return;
	if (tried_first != InvalidBlockNumber && tried_first != written[0])
		Remember(tried_first);
	for (int i = 0; i + 1 < count; i++)
		if (written[i] != written[count - 1])
			Remember(written[i]);
}

} // namespace dlq::pg::store
