// See job_page_reuse.hpp. The prune is heap_page_prune_opt's (pruneheap.c), whatever the page's free
// space, and the recording is vacuum's (RecordPageWithFreeSpace).
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
// A page offered again must keep line pointers for the new versions of its jobs' claims (HOT updates):
// deleted jobs leave theirs until a vacuum, up to MaxHeapTuplesPerPage (291).
constexpr OffsetNumber kMostLinePointers = 160;
// Pages pruned per enqueue at most, so that one enqueue never pays for many.
constexpr int kPrunedPerWrite = 8;

// The pages this backend's enqueues left, oldest first, of one storage of dlq.job (a compaction or
// TRUNCATE gives the table new storage, where these block numbers mean nothing).
struct LeftPages {
	Oid relfilenode;
	BlockNumber blocks[kRemembered];
	int first;
	int count;
};
LeftPages left = {InvalidOid, {}, 0, 0};

void
Remember(BlockNumber block) {
	if (left.count > 0 && left.blocks[(left.first + left.count - 1) % kRemembered] == block)
		return;
	if (left.count == kRemembered) { // forget the oldest: vacuum reclaims it
		left.first = (left.first + 1) % kRemembered;
		left.count--;
	}
	left.blocks[(left.first + left.count) % kRemembered] = block;
	left.count++;
}

void
ForgetOldest() {
	left.first = (left.first + 1) % kRemembered;
	left.count--;
}

enum class Pruned { kNotYet, kDone };

// Prunes `block` once its deleted rows are invisible to every transaction, and records its free space.
// A page with nothing to prune (pruned already on access, or holding only jobs never claimed) has its
// free space recorded as it is.
Pruned
PruneAndRecord(Relation rel, BlockNumber block, GlobalVisState *vistest) {
	Buffer buffer = ReadBuffer(rel, block);
	Page page = BufferGetPage(buffer);
	// Read without the lock, as heap_page_prune_opt does: a hint, checked by the prune under the lock.
	TransactionId prune_xid = ((PageHeader)page)->pd_prune_xid;
	if (TransactionIdIsValid(prune_xid) && !GlobalVisTestIsRemovableXid(vistest, prune_xid)) {
		ReleaseBuffer(buffer);
		return Pruned::kNotYet;
	}
	if (TransactionIdIsValid(prune_xid)) {
		if (!ConditionalLockBufferForCleanup(buffer)) { // pinned by another backend: it is in use
			ReleaseBuffer(buffer);
			return Pruned::kDone;
		}
		int new_dead_items = 0;
		int deleted = heap_page_prune(rel, buffer, InvalidTransactionId, vistest, InvalidTransactionId, 0,
		                              &new_dead_items, nullptr);
		// As heap_page_prune_opt reports it: tuples gone for good, not those left as dead line pointers.
		if (deleted > new_dead_items)
			pgstat_update_heap_dead_tuples(rel, deleted - new_dead_items);
	} else {
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
	}
	Size free_space = PageGetHeapFreeSpace(page);
	bool crowded = PageGetMaxOffsetNumber(page) > kMostLinePointers;
	UnlockReleaseBuffer(buffer);
	if (!crowded)
		RecordPageWithFreeSpace(rel, block, free_space);
	return Pruned::kDone;
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
	for (int pruned = 0; left.count > 0 && pruned < kPrunedPerWrite; pruned++) {
		BlockNumber block = left.blocks[left.first];
		if (block >= blocks) { // cut off by a vacuum
			ForgetOldest();
			continue;
		}
		if (PruneAndRecord(job_rel, block, vistest) == Pruned::kNotYet)
			break; // later pages were left later: not ready either // later pages were left later: not ready either
		ForgetOldest();
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
