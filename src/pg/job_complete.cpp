// Completion without the executor: each job is found by id through the primary key and deleted with
// heap_delete when its lease is the worker's, which is what `DELETE FROM dlq.job WHERE id = $1 AND
// worker = $2 AND lease_expires_at IS NOT NULL` did, without a nested executor start-up per call.
//
// A job another transaction is changing is waited for, as the DELETE waited: then, in READ COMMITTED,
// its newest version is locked and checked again (the executor's EvalPlanQual), so a job the sweeper
// rescued meanwhile (lease gone) or another worker now holds is not completed; in REPEATABLE READ and
// SERIALIZABLE a concurrent change is a serialization failure, as it was.
//
// Plain C style like the fmgr entry points (guard.hpp): only PODs and Datums live across PostgreSQL calls.
#include "pg/job_access.hpp"
#include "pg/job_store.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
}

namespace dlq::pg::store {

namespace {

[[noreturn]] void
RaiseConcurrentChange(TM_Result result) {
	ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
	                errmsg(result == TM_Deleted ? "could not serialize access due to concurrent delete"
	                                            : "could not serialize access due to concurrent update")));
}

// Deletes the job whose version `slot` holds (visible to `snapshot`) if it is still leased to `worker`
// once every concurrent change has ended. Returns whether it was deleted.
bool
DeleteIfHeld(Relation rel, const JobColumns &columns, TupleTableSlot *slot, Snapshot snapshot, CommandId command,
             Datum worker) {
	if (!HeldBy(slot, columns, worker))
		return false;
	ItemPointerData tid = slot->tts_tid;
	for (;;) {
		TM_FailureData failure;
		TM_Result result = table_tuple_delete(rel, &tid, command, snapshot, InvalidSnapshot, true, &failure, false);
		switch (result) {
		case TM_Ok:
			return true;
		case TM_SelfModified: // this command already deleted it (an id given twice)
			return false;
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				RaiseConcurrentChange(result);
			return false;
		case TM_Updated: {
			if (IsolationUsesXactSnapshot())
				RaiseConcurrentChange(result);
			// Lock the newest version and check it again.
			TM_Result locked = table_tuple_lock(rel, &tid, snapshot, slot, command, LockTupleExclusive, LockWaitBlock,
			                                    TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &failure);
			if (locked != TM_Ok || !HeldBy(slot, columns, worker))
				return false; // gone, or no longer this worker's
			tid = slot->tts_tid;
			continue;
		}
		default:
			elog(ERROR, "dlq: unexpected result %d deleting a job", static_cast<int>(result));
		}
	}
}

} // namespace

uint64
CompleteJobIds(const int64 *ids, int count, Datum worker) {
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	Snapshot snapshot = GetActiveSnapshot();
	Oid schema = get_namespace_oid("dlq", false);
	Relation rel = OpenJobForWrite(schema, "dlq.complete()");
	const JobColumns &columns = ColumnsOfJob(rel);
	Relation pkey = index_open(RelationInDlq(schema, "job_pkey"), AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, nullptr);
	IndexScanDesc scan = index_beginscan(rel, pkey, snapshot, 1, 0);
	CommandId command = GetCurrentCommandId(true);

	uint64 completed = 0;
	for (int i = 0; i < count; i++) {
		CHECK_FOR_INTERRUPTS();
		ScanKeyData key;
		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(ids[i]));
		index_rescan(scan, &key, 1, nullptr, 0);
		if (index_getnext_slot(scan, ForwardScanDirection, slot) &&
		    DeleteIfHeld(rel, columns, slot, snapshot, command, worker))
			completed++;
	}

	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(pkey, NoLock);
	table_close(rel, NoLock);
	PopActiveSnapshot();
	return completed;
}

} // namespace dlq::pg::store
