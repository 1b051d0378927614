// dlq's tables read and written without the executor (the claim, job_claim.cpp, and the enqueue,
// job_insert.cpp): relations and columns by name, a queue's row by name, and the index entries of a
// new heap tuple. Plain C style: only PODs and Datums live across PostgreSQL calls.
#pragma once

#include "pg/pg_includes.hpp"

extern "C" {
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
}

namespace dlq::pg::store {

// What a backend caches about the columns of one of dlq's tables is valid for that table (a recreated
// table has a new oid) until the next relcache invalidation (an ALTER TABLE among them).
struct ColumnCacheKey {
	Oid relid;
	uint64 generation; // of relcache invalidations seen by this backend
};
constexpr ColumnCacheKey kNoColumnCache = {InvalidOid, 0};
ColumnCacheKey ColumnCacheKeyOf(Relation rel);
bool ColumnCacheIsCurrent(const ColumnCacheKey &key, Relation rel);

// A column's attribute number; raises when the table has no such column.
AttrNumber ColumnNumber(Relation rel, const char *name);

// The oid of dlq.<name>; raises when it is missing.
Oid RelationInDlq(Oid schema, const char *name);

// Raises unless dlq.job uses the heap access method: heap_update and heap_insert would corrupt a
// table of another.
void RequireHeap(Relation job_rel);

struct QueueRow {
	int32 id;
	int32 max_attempts;
	Datum lease; // interval, copied
	bool paused;
};

// The queue's row by name, through its unique index, as the given snapshot sees it.
bool ReadQueue(Oid schema, Snapshot snapshot, Datum queue_name, QueueRow *out);

// The index entries of tuples just written to dlq.job, by the executor's own routine, with the state it
// needs made on first use.
struct IndexInserter {
	EState *estate;
	ResultRelInfo *result_rel;
	TupleTableSlot *slot; // for InsertIndexEntriesOf
};
constexpr IndexInserter kNoIndexInserter = {nullptr, nullptr, nullptr};

// The entries of the tuple in `slot` (its tts_tid set by the heap write).
void InsertIndexEntries(IndexInserter *inserter, Relation job_rel, TupleTableSlot *slot);
// The entries of `tuple` (its t_self set by the heap write).
void InsertIndexEntriesOf(IndexInserter *inserter, Relation job_rel, HeapTuple tuple);
void EndIndexEntries(IndexInserter *inserter);

} // namespace dlq::pg::store
