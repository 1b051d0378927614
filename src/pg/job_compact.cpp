// Compaction of dlq.job: its live jobs copied into new storage, and the old storage, with every dead row
// version in it, dropped as TRUNCATE drops it.
//
// Every claim, completion and retry leaves a dead row version behind, and vacuum may remove one only
// once no snapshot that could see it remains. While a transaction horizon is held (a session idle in a
// transaction, a long report), nothing but dropping the storage removes them, and a busy queue gains
// hundreds of thousands an interval. A queue's live jobs are few beside them, so copying those is cheap.
//
// The caller (dlq._compact_jobs, 460_compaction.sql) holds dlq.job in ACCESS EXCLUSIVE mode: no other
// transaction reads or writes it until this one ends, and if this one aborts the old storage stays.
// The copies are written frozen, as COPY FREEZE writes into a table truncated in the same
// subtransaction (the only case where that is safe: an abort drops them with the new storage). A
// snapshot taken before this transaction commits therefore sees the jobs as they are, rather than none:
// a statement that took its snapshot and then waited for the lock finds the job it came for, and a long
// REPEATABLE READ transaction that reads dlq.job afterwards sees today's jobs rather than those of its
// snapshot (README, "When vacuum is held back").
//
// Plain C style like the fmgr entry points (guard.hpp): only PODs and Datums live across PostgreSQL calls.
#include "pg/claim_hint.hpp"
#include "pg/job_relations.hpp"
#include "pg/job_store.hpp"

extern "C" {
#include "access/detoast.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace dlq::pg::store {

namespace {

// Jobs per heap_multi_insert (one WAL record per page rather than per job).
constexpr int kChunk = 100;

// A copy of the tuple in `slot` that stands alone: every column present (a column added later reads
// its default from the catalog, which a tuple of the new storage must carry), no value left in the old
// storage's TOAST table, which TRUNCATE empties.
HeapTuple
StandaloneCopy(TupleTableSlot *slot) {
	TupleDesc desc = slot->tts_tupleDescriptor;
	slot_getallattrs(slot);
	Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * desc->natts));
	bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * desc->natts));
	bool *detoasted = static_cast<bool *>(palloc0(sizeof(bool) * desc->natts));
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		values[i] = slot->tts_values[i];
		// A dropped column's old value is not carried over (its type may be gone), as a rewrite does.
		nulls[i] = slot->tts_isnull[i] || attr->attisdropped;
		if (!nulls[i] && attr->attlen == -1 && VARATT_IS_EXTERNAL(DatumGetPointer(values[i]))) {
			values[i] = PointerGetDatum(detoast_external_attr(reinterpret_cast<struct varlena *>(DatumGetPointer(values[i]))));
			detoasted[i] = true;
		}
	}
	HeapTuple copy = heap_form_tuple(desc, values, nulls);
	// The tuple holds its own copy: the detoasted values would otherwise stay until the end.
	for (int i = 0; i < desc->natts; i++)
		if (detoasted[i])
			pfree(DatumGetPointer(values[i]));
	pfree(values);
	pfree(nulls);
	pfree(detoasted);
	return copy;
}

// The live jobs as a snapshot taken now sees them, copied into the current memory context; false when
// there are more than max_rows of them or they take more than max_bytes.
bool
ReadLiveJobs(Relation rel, int32 max_rows, int64 max_bytes, HeapTuple **out, int *count) {
	CommandCounterIncrement(); // what this transaction wrote before is among them
	Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, nullptr);
	TupleTableSlot *slot = table_slot_create(rel, nullptr);
	int capacity = 64;
	HeapTuple *tuples = static_cast<HeapTuple *>(palloc(sizeof(HeapTuple) * capacity));
	int64 bytes = 0;
	bool fits = true;
	*count = 0;
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
		if (*count >= max_rows) {
			fits = false;
			break;
		}
		HeapTuple copy = StandaloneCopy(slot);
		bytes += copy->t_len;
		if (bytes > max_bytes) {
			fits = false;
			break;
		}
		if (*count == capacity) {
			capacity *= 2;
			tuples = static_cast<HeapTuple *>(repalloc(tuples, sizeof(HeapTuple) * capacity));
		}
		tuples[(*count)++] = copy;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	*out = tuples;
	return fits;
}

void
Truncate() {
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dlq: SPI_connect failed");
	int rc = SPI_execute("TRUNCATE ONLY dlq.job", false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "dlq: truncating dlq.job failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

// Writes the copies frozen into the new storage, with their index entries.
void
WriteFrozen(Relation rel, HeapTuple *tuples, int count) {
	CommandId command = GetCurrentCommandId(true);
	BulkInsertState bulk = GetBulkInsertState();
	IndexInserter inserter = kNoIndexInserter;
	TupleTableSlot *slots[kChunk];
	for (TupleTableSlot *&slot : slots)
		slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
	for (int done = 0; done < count; done += kChunk) {
		int n = count - done < kChunk ? count - done : kChunk;
		for (int i = 0; i < n; i++)
			ExecStoreHeapTuple(tuples[done + i], slots[i], false);
		heap_multi_insert(rel, slots, n, command, HEAP_INSERT_FROZEN, bulk); // sets each slot's tts_tid
		for (int i = 0; i < n; i++) {
			InsertIndexEntries(&inserter, rel, slots[i]);
			ExecClearTuple(slots[i]);
		}
	}
	for (TupleTableSlot *slot : slots)
		ExecDropSingleTupleTableSlot(slot);
	EndIndexEntries(&inserter);
	FreeBulkInsertState(bulk);
}

} // namespace

int64
RewriteJobTable(int32 max_live_rows, int64 max_live_bytes) {
	Oid relid = RelationInDlq(get_namespace_oid("dlq", false), "job");
	Relation rel = table_open(relid, AccessShareLock);
	if (!CheckRelationLockedByMe(rel, AccessExclusiveLock, false))
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("dlq.job must be locked in access exclusive mode by this transaction"),
		                errhint("Call dlq._compact_jobs(), which takes the lock.")));
	RequireHeap(rel);
	MemoryContext copies = AllocSetContextCreate(CurrentMemoryContext, "dlq compaction", ALLOCSET_DEFAULT_SIZES);
	MemoryContext outer = MemoryContextSwitchTo(copies);
	HeapTuple *tuples;
	int count;
	bool fits = ReadLiveJobs(rel, max_live_rows, max_live_bytes, &tuples, &count);
	MemoryContextSwitchTo(outer);
	// TRUNCATE refuses a table this backend still has open.
	table_close(rel, NoLock);
	if (!fits) {
		MemoryContextDelete(copies);
		return -1;
	}
	Truncate();
	rel = table_open(relid, NoLock);
	// Frozen copies are safe only in storage that an abort of this subtransaction drops.
	if (rel->rd_newRelfilenodeSubid != GetCurrentSubTransactionId())
		elog(ERROR, "dlq: dlq.job has no new storage of this subtransaction after TRUNCATE");
	WriteFrozen(rel, tuples, count);
	table_close(rel, NoLock);
	MemoryContextDelete(copies);
	CommandCounterIncrement();
	// The jobs are where they were in claim order, but claims must not trust hints across the rewrite.
	hint::NoteUnknownWrite();
	return count;
}

} // namespace dlq::pg::store
