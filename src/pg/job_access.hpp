// What the statements-free parts of the job store (job_claim.cpp, job_complete.cpp) share: the extension's
// relations by name, dlq.job's column numbers, and the checks the executor would make before writing.
#pragma once

#include "pg/pg_includes.hpp"

extern "C" {
#include "utils/rel.h"
}

namespace dlq::pg::store {

// Columns of dlq.job read or written without the executor (attribute numbers).
struct JobColumns {
	AttrNumber id, enqueued_at, queue_id, priority, max_attempts, kind, tenant, payload, run_at,
	    first_attempted_at, attempt, lease_expires_at, worker;
};
// Resolved once per table oid: the extension's tables are never altered (a recreated one has a new oid).
const JobColumns &ColumnsOfJob(Relation job_rel);
AttrNumber ColumnNumber(Relation rel, const char *name);

// A relation of schema dlq by name; raises when it is missing.
Oid RelationInDlq(Oid schema, const char *name);

// Opens dlq.job for writing (RowExclusiveLock, as an UPDATE or DELETE takes), after the checks the
// executor makes before a write (read-only transaction, parallel mode); refuses a table that is not a heap,
// as its rows are written with heapam. `what` names the caller in the errors.
Relation OpenJobForWrite(Oid schema, const char *what);

// Whether the job in `slot` (a dlq.job row) is leased to `worker`.
bool HeldBy(TupleTableSlot *slot, const JobColumns &columns, Datum worker);

} // namespace dlq::pg::store
