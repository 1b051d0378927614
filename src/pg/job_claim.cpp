// The claim, run without the executor: it reads its queue's two claim lanes (core/job_id.hpp) and updates
// the jobs it takes through the index and heap access methods. As a SQL statement (a recursive CTE, FOR
// UPDATE SKIP LOCKED, an UPDATE) it cost a nested executor start-up per call, more than the reads and
// writes themselves, and a row lock per job (a WAL record) before the update. Here a job another
// transaction is updating or locking is skipped, as SKIP LOCKED skips it (see TakeJob), and the update
// itself is the only record written (a HOT update, as the claim changes no indexed column).
//
// The claim index lane (queue, priority, run_at, id) is read one priority at a time, lowest first,
// starting at the lane's claim hint (claim_hint.hpp) so that the entries of finished jobs that vacuum has
// not removed are not stepped over. In each priority it reads the due range (run_at <= now()), stepping
// over running jobs (at most workers x batch); a priority whose due range ends before its entries do
// (jobs scheduled for later) is left by a new descent to the next priority, so millions of future jobs
// cost a claim one descent. The plain lane is the queue's plain range of the primary key, read in id
// order from its own hint, passing over the versions the claim index holds (a plain job retried). The
// claim takes from whichever lane's next due job comes first in (priority, run_at, id) order. For each
// lane it reports the first entry its snapshot saw from the hint and the first waiting one, due or not
// (which move that hint's two keys), and
// raises that lane's lease bounds to the jobs it took from it (sweep_bound.hpp). What it does with each
// entry is decided in the core (core/claim_scan.hpp, core/job_id.hpp; unit-tested).
//
// Plain C style like the fmgr entry points (guard.hpp): only PODs and Datums live across PostgreSQL calls.
#include <algorithm>

#include "core/claim_hint.hpp"
#include "core/claim_scan.hpp"
#include "core/job_id.hpp"
#include "pg/args.hpp"
#include "pg/claim_hint.hpp"
#include "pg/job_relations.hpp"
#include "pg/job_store.hpp"

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace dlq::pg::store {

namespace {

// Columns of dlq.job the claim reads or writes (attribute numbers).
struct JobColumns {
	AttrNumber id, enqueued_at, queue_id, priority, max_attempts, kind, tenant, payload, run_at,
	    first_attempted_at, attempt, lease_expires_at, worker;
};

ColumnCacheKey job_columns_key = kNoColumnCache;
JobColumns job_columns;

const JobColumns &
ColumnsOfJob(Relation rel) {
	if (!ColumnCacheIsCurrent(job_columns_key, rel)) {
		job_columns = JobColumns{ColumnNumber(rel, "id"),           ColumnNumber(rel, "enqueued_at"),
		                         ColumnNumber(rel, "queue_id"),     ColumnNumber(rel, "priority"),
		                         ColumnNumber(rel, "max_attempts"), ColumnNumber(rel, "kind"),
		                         ColumnNumber(rel, "tenant"),       ColumnNumber(rel, "payload"),
		                         ColumnNumber(rel, "run_at"),       ColumnNumber(rel, "first_attempted_at"),
		                         ColumnNumber(rel, "attempt"),      ColumnNumber(rel, "lease_expires_at"),
		                         ColumnNumber(rel, "worker")};
		job_columns_key = ColumnCacheKeyOf(rel);
	}
	return job_columns;
}

// Everything one claim carries through its scans.
struct Claim {
	Relation job_rel;
	const JobColumns *columns;
	TimestampTz now;
	Datum worker;
	Datum lease_expires_at;
	CommandId command;
	IndexInserter inserter;
	MemoryContext call_context; // the claim's, for what lives across jobs
	MemoryContext job_context;  // reset after each job: its new version
	Tuplestorestate *out;
	TupleDesc out_desc;
};

// Whether the job in `slot` may be updated without waiting: no transaction in progress updates, deletes
// or locks it, and none changed it since the snapshot. Read under a share lock on its page, as
// heap_update reads it under an exclusive one.
bool
FreeToUpdate(TupleTableSlot *slot, HeapTuple tuple, CommandId command) {
	Buffer buffer = reinterpret_cast<BufferHeapTupleTableSlot *>(slot)->buffer;
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	TM_Result result = HeapTupleSatisfiesUpdate(tuple, command, buffer);
	LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
	return result == TM_Ok;
}

// heap_update's `wait`. A transaction may begin changing the job between FreeToUpdate and heap_update.
// With wait = false heap_update then returns TM_BeingModified, holding nothing, and the job is skipped;
// assert-enabled builds of PostgreSQL assert that no caller meets that case (heapam.c: "we don't
// consider the no wait case"), so there the update waits for that transaction instead, and skips the
// job if it changed it.
#ifdef USE_ASSERT_CHECKING
constexpr bool kUpdateWaits = true;
#else
constexpr bool kUpdateWaits = false;
#endif

// Takes the job in `slot` (visible to the claim's snapshot, waiting, due) unless another transaction is
// updating or locking it or has changed it since the snapshot. Returns whether it was taken.
bool
TakeJob(Claim *claim, TupleTableSlot *slot) {
	HeapTuple old_tuple = ExecFetchSlotHeapTuple(slot, false, nullptr); // the page's copy, pinned by the slot
	if (!FreeToUpdate(slot, old_tuple, claim->command))
		return false;
	const JobColumns &c = *claim->columns;
	MemoryContext outer = MemoryContextSwitchTo(claim->job_context);
	bool isnull;
	int32 attempt = DatumGetInt32(slot_getattr(slot, c.attempt, &isnull));
	slot_getattr(slot, c.first_attempted_at, &isnull);
	bool first_attempt = isnull;

	int columns[4] = {c.attempt, c.worker, c.lease_expires_at, c.first_attempted_at};
	Datum values[4] = {Int32GetDatum(attempt + 1), claim->worker, claim->lease_expires_at,
	                   TimestampTzGetDatum(claim->now)};
	bool nulls[4] = {false, false, false, false};
	HeapTuple new_tuple = heap_modify_tuple_by_cols(old_tuple, RelationGetDescr(claim->job_rel), first_attempt ? 4 : 3,
	                                                columns, values, nulls);

	ItemPointerData old_tid = slot->tts_tid;
	TM_FailureData failure;
	LockTupleMode lock_mode;
	TM_Result result = heap_update(claim->job_rel, &old_tid, new_tuple, claim->command, InvalidSnapshot, kUpdateWaits,
	                               &failure, &lock_mode);
	// Otherwise (TM_BeingModified, TM_Updated, TM_Deleted, TM_SelfModified) the job is skipped.
	bool taken = result == TM_Ok;
	if (taken) {
		if (!HeapTupleIsHeapOnly(new_tuple)) {
			MemoryContextSwitchTo(claim->call_context); // the inserter's state outlives this job
			InsertIndexEntriesOf(&claim->inserter, claim->job_rel, new_tuple);
			MemoryContextSwitchTo(claim->job_context);
		}
		Datum row[8];
		bool row_nulls[8];
		AttrNumber out_columns[8] = {c.id, c.kind, c.payload, c.attempt, c.max_attempts, c.tenant, c.enqueued_at,
		                             c.lease_expires_at};
		// A payload stored out of line stays a TOAST pointer, as in the rows of a SQL statement: copying it
		// whole here held the payloads of the whole batch in memory.
		TupleDesc desc = RelationGetDescr(claim->job_rel);
		for (int i = 0; i < 8; i++)
			row[i] = heap_getattr(new_tuple, out_columns[i], desc, &row_nulls[i]);
		tuplestore_putvalues(claim->out, claim->out_desc, row, row_nulls); // copies into its own context
	}
	MemoryContextSwitchTo(outer);
	MemoryContextReset(claim->job_context);
	return taken;
}

// Scan keys on the claim index (queue_id, priority, run_at, id): the queue, and its entries from `start`
// on (the hint, or the lowest key; a row comparison on (priority, run_at, id), so the scan starts at that
// entry itself, not at the first entry of its run_at), or above the priority `priority`. Always two keys,
// the count the scan was begun with (a rescan takes that many).
enum class ScanFrom { kStart, kAbovePriority };
constexpr int kScanKeys = 2;

void
MakeScanKeys(ScanKeyData *keys, ScanKeyData *row_keys, int32 queue_id, ScanFrom from, int32 priority,
             const core::ClaimKey &start) {
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(queue_id));
	if (from == ScanFrom::kStart) {
		// As the executor builds `ROW(priority, run_at, id) >= ROW(...)`: the members carry the btree
		// comparison functions, and the header points at them.
		ScanKeyEntryInitialize(&row_keys[0], SK_ROW_MEMBER, 2, BTGreaterEqualStrategyNumber, INT4OID, InvalidOid,
		                       F_BTINT4CMP, Int32GetDatum(start.priority));
		ScanKeyEntryInitialize(&row_keys[1], SK_ROW_MEMBER, 3, BTGreaterEqualStrategyNumber, TIMESTAMPTZOID,
		                       InvalidOid, F_TIMESTAMPTZ_CMP, TimestampTzGetDatum(start.run_at));
		ScanKeyEntryInitialize(&row_keys[2], SK_ROW_MEMBER | SK_ROW_END, 4, BTGreaterEqualStrategyNumber, INT8OID,
		                       InvalidOid, F_BTINT8CMP, Int64GetDatum(start.id));
		// The header has no function: built by hand, as ScanKeyEntryInitialize asserts one for a plain key.
		MemSet(&keys[1], 0, sizeof(ScanKeyData));
		keys[1].sk_flags = SK_ROW_HEADER;
		keys[1].sk_attno = 2;
		keys[1].sk_strategy = BTGreaterEqualStrategyNumber;
		keys[1].sk_argument = PointerGetDatum(row_keys);
	} else {
		ScanKeyInit(&keys[1], 2, BTGreaterStrategyNumber, F_INT4GT, Int32GetDatum(priority));
	}
}

// One claim lane being read: its scan, the entry it stopped at (a due waiting job it may take, in
// `slot`), and what the core decides of its entries.
struct Lane {
	bool plain;            // the primary key's plain range, or the claim index
	IndexScanDesc scan;
	TupleTableSlot *slot;
	core::ClaimScan decide;
	bool has_job;          // `slot` holds a job to try, with key `key`
	bool ended;            // nothing more to read
	core::ClaimKey key;    // in claim order: (priority, run_at, id), for the plain lane too
	// the claim index lane's descents
	ScanKeyData keys[kScanKeys];
	ScanKeyData row_keys[3]; // the row comparison from the start: keys[1] points at it while the scan runs
	int32 queue_id;
	core::ClaimKey start;
};

// The claim key of the job in the lane's slot.
core::ClaimKey
SlotKey(const Lane *lane, const JobColumns &c) {
	bool isnull;
	core::ClaimKey key;
	key.priority = DatumGetInt32(slot_getattr(lane->slot, c.priority, &isnull));
	key.run_at = DatumGetTimestampTz(slot_getattr(lane->slot, c.run_at, &isnull));
	key.id = DatumGetInt64(slot_getattr(lane->slot, c.id, &isnull));
	return key;
}

// What the core decides of the job in the lane's slot; a job to try is kept as the lane's next.
core::EntryAction
DecideEntry(Lane *lane, const core::ClaimKey &key, const JobColumns &c) {
	bool waiting;
	slot_getattr(lane->slot, c.lease_expires_at, &waiting); // a null lease: waiting
	core::EntryAction action = core::NextEntry(lane->decide, key, !waiting);
	if (action == core::EntryAction::kTry) {
		lane->key = key;
		lane->has_job = true;
	}
	return action;
}

// Reads the claim index lane on to its next due waiting job, descending to higher priorities past
// future entries. Sets has_job, or ended.
void
AdvanceIndexLane(Lane *lane, const JobColumns &c) {
	while (!lane->ended) {
		if (index_getnext_slot(lane->scan, ForwardScanDirection, lane->slot)) {
			CHECK_FOR_INTERRUPTS();
			core::EntryAction action = DecideEntry(lane, SlotKey(lane, c), c);
			if (action == core::EntryAction::kTry)
				return;
			if (action == core::EntryAction::kSkip)
				continue;
		}
		// The scan ended (a future entry, the claim done, or the entries ran out): descend, or stop.
		int32 above_priority;
		if (!core::NextDescent(lane->decide, &above_priority)) {
			lane->ended = true;
			return;
		}
		MakeScanKeys(lane->keys, lane->row_keys, lane->queue_id, ScanFrom::kAbovePriority, above_priority,
		             lane->start);
		index_rescan(lane->scan, lane->keys, kScanKeys, nullptr, 0);
	}
}

// Reads the plain lane on to its next due waiting plain job. Versions that the claim index holds (a
// plain job retried or rescued) are not this lane's and are passed over unseen.
void
AdvancePlainLane(Lane *lane, const JobColumns &c) {
	while (!lane->ended) {
		if (!index_getnext_slot(lane->scan, ForwardScanDirection, lane->slot)) {
			lane->ended = true;
			return;
		}
		CHECK_FOR_INTERRUPTS();
		core::ClaimKey key = SlotKey(lane, c);
		bool isnull;
		TimestampTz enqueued_at = DatumGetTimestampTz(slot_getattr(lane->slot, c.enqueued_at, &isnull));
		if (core::InClaimIndex(key.id, key.priority, key.run_at, enqueued_at))
			continue;
		core::EntryAction action = DecideEntry(lane, key, c);
		if (action == core::EntryAction::kTry)
			return;
		if (action == core::EntryAction::kEndScan) // a job enqueued after this claim's now(), or done
			lane->ended = true;
	}
}

void
AdvanceLane(Lane *lane, const JobColumns &c) {
	if (lane->plain)
		AdvancePlainLane(lane, c);
	else
		AdvanceIndexLane(lane, c);
}

// Sets up a lane of a claim: its slot, its decisions, where it starts (its hint applies only to the
// queue it was read for: the name may now be another queue's) and its scan (keys given by the caller).
void
BeginLane(Lane *lane, bool plain, const Claim *claim, Relation index, Snapshot snapshot, const QueueRow &queue,
          int32 batch, const hint::ClaimBegin &begun) {
	lane->plain = plain;
	lane->slot = table_slot_create(claim->job_rel, nullptr);
	lane->decide = core::BeginClaimScan(claim->now, batch, queue.paused);
	lane->has_job = false;
	lane->ended = false;
	lane->queue_id = queue.id;
	lane->start = begun.queue_id == queue.id ? begun.queue.start : core::kLowestClaimKey;
	lane->scan = index_beginscan(claim->job_rel, index, snapshot, kScanKeys, 0);
}

// Scan keys on the primary key: the queue's plain range from `from` on.
void
MakePlainScanKeys(ScanKeyData *keys, int64 from, int64 last) {
	ScanKeyInit(&keys[0], 1, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(from));
	ScanKeyInit(&keys[1], 1, BTLessEqualStrategyNumber, F_INT8LE, Int64GetDatum(last));
}

} // namespace

uint64
ClaimJobs(Datum queue_name, Datum worker, int32 batch, Datum lease, bool lease_is_null, Tuplestorestate *out,
          TupleDesc out_desc, bool *queue_exists) {
	RefuseReadOnly("dlq.claim()"); // what the executor checks before an UPDATE

	hint::ClaimBegin begun_index;
	hint::ClaimBegin begun_plain;
	hint::BeginClaim(queue_name, &begun_index, &begun_plain);

	// A snapshot of its own taken after the hints were read (a fresh one per claim in READ COMMITTED), as
	// the claim statement had; jobs it updates get its command id, so their new versions stay invisible
	// to the scans that found them.
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	Snapshot snapshot = GetActiveSnapshot();
	TransactionId snapshot_xmin = snapshot->xmin; // for the hints, after the snapshot is popped

	Oid schema = get_namespace_oid("dlq", false);
	QueueRow queue;
	*queue_exists = ReadQueue(schema, snapshot, queue_name, &queue);
	if (!*queue_exists) {
		PopActiveSnapshot();
		return 0;
	}

	Claim claim;
	claim.job_rel = table_open(RelationInDlq(schema, "job"), RowExclusiveLock);
	RequireHeap(claim.job_rel);
	// As the executor checks before an UPDATE: a publication of the table needs a replica identity.
	CheckCmdReplicaIdentity(claim.job_rel, CMD_UPDATE);
	claim.columns = &ColumnsOfJob(claim.job_rel);
	claim.now = GetCurrentTransactionStartTimestamp(); // now()
	claim.worker = worker;
	claim.lease_expires_at = DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(claim.now),
	                                             lease_is_null ? queue.lease : lease);
	claim.command = GetCurrentCommandId(true);
	claim.inserter = kNoIndexInserter;
	claim.call_context = CurrentMemoryContext;
	claim.job_context = AllocSetContextCreate(CurrentMemoryContext, "dlq claim job", ALLOCSET_DEFAULT_SIZES);
	claim.out = out;
	claim.out_desc = out_desc;
	const JobColumns &c = *claim.columns;

	Relation claim_index = index_open(RelationInDlq(schema, "job_claim_idx"), AccessShareLock);
	Lane index_lane;
	BeginLane(&index_lane, false, &claim, claim_index, snapshot, queue, batch, begun_index);
	MakeScanKeys(index_lane.keys, index_lane.row_keys, queue.id, ScanFrom::kStart, 0, index_lane.start);
	index_rescan(index_lane.scan, index_lane.keys, kScanKeys, nullptr, 0);

	Relation primary_key = index_open(RelationInDlq(schema, "job_pkey"), AccessShareLock);
	Lane plain_lane;
	BeginLane(&plain_lane, true, &claim, primary_key, snapshot, queue, batch, begun_plain);
	MakePlainScanKeys(plain_lane.keys, std::max(plain_lane.start.id, core::PlainLaneFirst(queue.id)),
	                  core::PlainLaneLast(queue.id));
	index_rescan(plain_lane.scan, plain_lane.keys, kScanKeys, nullptr, 0);

	// Jobs taken from each lane, in claim order, for the lease bounds.
	core::ClaimKey *taken_index = static_cast<core::ClaimKey *>(palloc(sizeof(core::ClaimKey) * batch));
	core::ClaimKey *taken_plain = static_cast<core::ClaimKey *>(palloc(sizeof(core::ClaimKey) * batch));
	int32 taken_index_count = 0;
	int32 taken_plain_count = 0;
	int32 taken = 0;
	AdvanceLane(&index_lane, c);
	AdvanceLane(&plain_lane, c);
	while (taken < batch && (index_lane.has_job || plain_lane.has_job)) {
		bool from_plain = core::TakePlainLaneNext(index_lane.has_job, index_lane.key, plain_lane.has_job,
		                                          plain_lane.key);
		Lane *lane = from_plain ? &plain_lane : &index_lane;
		lane->has_job = false;
		if (TakeJob(&claim, lane->slot)) {
			if (from_plain)
				taken_plain[taken_plain_count++] = core::PlainLaneKey(lane->key.id);
			else
				taken_index[taken_index_count++] = lane->key;
			taken++;
			// Both lanes count the claim's jobs: either ends its scan when the batch is full.
			core::NoteTaken(index_lane.decide);
			core::NoteTaken(plain_lane.decide);
		}
		if (taken < batch)
			AdvanceLane(lane, c);
	}

	index_endscan(index_lane.scan);
	index_endscan(plain_lane.scan);
	ExecDropSingleTupleTableSlot(index_lane.slot);
	ExecDropSingleTupleTableSlot(plain_lane.slot);
	EndIndexEntries(&claim.inserter);
	index_close(claim_index, NoLock);
	index_close(primary_key, NoLock);
	table_close(claim.job_rel, NoLock);
	MemoryContextDelete(claim.job_context);
	PopActiveSnapshot();

	hint::NoteLeasedKeys(queue.id, false, taken_index, taken_index_count);
	hint::NoteLeasedKeys(queue.id, true, taken_plain, taken_plain_count);
	if (index_lane.decide.seen_first)
		hint::FinishClaim(&begun_index, queue_name, queue.id, index_lane.decide.first_visible,
		                  index_lane.decide.seen_waiting, index_lane.decide.first_waiting, snapshot_xmin);
	if (plain_lane.decide.seen_first)
		hint::FinishClaim(&begun_plain, queue_name, queue.id, core::PlainLaneKey(plain_lane.decide.first_visible.id),
		                  plain_lane.decide.seen_waiting, core::PlainLaneKey(plain_lane.decide.first_waiting.id),
		                  snapshot_xmin);
	return static_cast<uint64>(taken);
}

} // namespace dlq::pg::store
