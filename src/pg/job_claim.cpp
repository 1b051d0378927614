// The claim, run without the executor: it reads the claim index and updates the jobs it takes through
// the index and heap access methods. As a SQL statement (a recursive CTE, FOR UPDATE SKIP LOCKED, an
// UPDATE) it cost a nested executor start-up per call, more than the reads and writes themselves, and a
// row lock per job (a WAL record) before the update. Here a job another transaction is updating or
// locking is skipped, as SKIP LOCKED skips it (see TakeJob), and the update itself is the only record
// written (a HOT update, as the claim changes no indexed column).
//
// It reads the claim index (queue, priority, run_at, id) one priority at a time, lowest first, starting
// at the queue's claim hint (claim_hint.hpp) so that the entries of finished jobs that vacuum has not
// removed are not stepped over. In each priority it reads the due range (run_at <= now()), stepping over
// running jobs (at most workers x batch); a priority whose due range ends before its entries do (jobs
// scheduled for later) is left by a new descent to the next priority, so millions of future jobs cost a
// claim one descent. It reports the first entry its snapshot saw from the hint, due or not (which moves
// the hint), and raises the queue's lease bounds to the jobs it took (sweep_bound.hpp). What it does with
// each entry is decided in the core (core/claim_scan.hpp, unit-tested).
//
// Plain C style like the fmgr entry points (guard.hpp): only PODs and Datums live across PostgreSQL calls.
#include "core/claim_hint.hpp"
#include "core/claim_scan.hpp"
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

} // namespace

uint64
ClaimJobs(Datum queue_name, Datum worker, int32 batch, Datum lease, bool lease_is_null, Tuplestorestate *out,
          TupleDesc out_desc, bool *queue_exists) {
	RefuseReadOnly("dlq.claim()"); // what the executor checks before an UPDATE

	hint::ClaimBegin begun;
	hint::BeginClaim(queue_name, &begun);

	// A snapshot of its own taken after the hint was read (a fresh one per claim in READ COMMITTED), as
	// the claim statement had; jobs it updates get its command id, so their new versions stay invisible
	// to the scan that found them.
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	Snapshot snapshot = GetActiveSnapshot();
	TransactionId snapshot_xmin = snapshot->xmin; // for the hint, after the snapshot is popped

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
	TupleTableSlot *slot = table_slot_create(claim.job_rel, nullptr);
	IndexScanDesc scan = index_beginscan(claim.job_rel, claim_index, snapshot, kScanKeys, 0);

	// The hint applies only to the queue it was read for (the name may now be another queue's).
	core::ClaimKey start = begun.queue_id == queue.id ? begun.queue.start : core::kLowestClaimKey;
	ScanFrom from = ScanFrom::kStart;
	int32 above_priority = 0;
	core::ClaimScan decide = core::BeginClaimScan(claim.now, batch, queue.paused);
	core::ClaimKey *taken_keys = static_cast<core::ClaimKey *>(palloc(sizeof(core::ClaimKey) * batch)); // claim order
	ScanKeyData keys[kScanKeys];
	ScanKeyData row_keys[3]; // the row comparison from `start`: keys[1] points at it while the scan runs
	do {
		MakeScanKeys(keys, row_keys, queue.id, from, above_priority, start);
		index_rescan(scan, keys, kScanKeys, nullptr, 0);
		while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
			CHECK_FOR_INTERRUPTS();
			bool isnull;
			core::ClaimKey key;
			key.priority = DatumGetInt32(slot_getattr(slot, c.priority, &isnull));
			key.run_at = DatumGetTimestampTz(slot_getattr(slot, c.run_at, &isnull));
			key.id = DatumGetInt64(slot_getattr(slot, c.id, &isnull));
			slot_getattr(slot, c.lease_expires_at, &isnull);
			core::EntryAction action = core::NextEntry(decide, key, !isnull);
			if (action == core::EntryAction::kEndScan)
				break;
			if (action == core::EntryAction::kTry && TakeJob(&claim, slot)) {
				taken_keys[decide.taken] = key;
				core::NoteTaken(decide);
				if (decide.done)
					break;
			}
		}
		from = ScanFrom::kAbovePriority;
	} while (core::NextDescent(decide, &above_priority));

	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	EndIndexEntries(&claim.inserter);
	index_close(claim_index, NoLock);
	table_close(claim.job_rel, NoLock);
	MemoryContextDelete(claim.job_context);
	PopActiveSnapshot();

	if (decide.taken > 0)
		hint::NoteLeasedKeys(queue.id, taken_keys, decide.taken);
	if (decide.seen_first)
		hint::FinishClaim(&begun, queue_name, queue.id, decide.first_visible, snapshot_xmin);
	return decide.taken;
}

} // namespace dlq::pg::store
