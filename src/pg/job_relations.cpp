// See job_relations.hpp.
#include "pg/job_relations.hpp"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am_d.h"
#include "executor/executor.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
}

namespace dlq::pg::store {

namespace {

uint64 columns_generation = 1;
bool relcache_callback_registered = false;

void
BumpColumnsGeneration(Datum, Oid) {
	columns_generation++;
}

struct QueueColumns {
	AttrNumber id, max_attempts, lease, paused;
};

ColumnCacheKey queue_columns_key = kNoColumnCache;
QueueColumns queue_columns;

const QueueColumns &
ColumnsOfQueue(Relation rel) {
	if (!ColumnCacheIsCurrent(queue_columns_key, rel)) {
		queue_columns = QueueColumns{ColumnNumber(rel, "id"), ColumnNumber(rel, "max_attempts"),
		                             ColumnNumber(rel, "lease"), ColumnNumber(rel, "paused")};
		queue_columns_key = ColumnCacheKeyOf(rel);
	}
	return queue_columns;
}

void
BeginIndexEntries(IndexInserter *inserter, Relation job_rel) {
	if (inserter->estate != nullptr)
		return;
	inserter->estate = CreateExecutorState();
	inserter->result_rel = makeNode(ResultRelInfo);
	InitResultRelInfo(inserter->result_rel, job_rel, 1, nullptr, 0);
	ExecOpenIndices(inserter->result_rel, false);
	inserter->slot = MakeSingleTupleTableSlot(RelationGetDescr(job_rel), &TTSOpsHeapTuple);
}

} // namespace

ColumnCacheKey
ColumnCacheKeyOf(Relation rel) {
	if (!relcache_callback_registered) {
		CacheRegisterRelcacheCallback(BumpColumnsGeneration, (Datum)0);
		relcache_callback_registered = true;
	}
	return ColumnCacheKey{RelationGetRelid(rel), columns_generation};
}

bool
ColumnCacheIsCurrent(const ColumnCacheKey &key, Relation rel) {
	ColumnCacheKey now = ColumnCacheKeyOf(rel);
	return key.relid == now.relid && key.generation == now.generation;
}

AttrNumber
ColumnNumber(Relation rel, const char *name) {
	TupleDesc desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		if (!attr->attisdropped && strcmp(NameStr(attr->attname), name) == 0)
			return attr->attnum;
	}
	elog(ERROR, "dlq: column \"%s\" of %s is missing", name, RelationGetRelationName(rel));
	return InvalidAttrNumber;
}

Oid
RelationInDlq(Oid schema, const char *name) {
	Oid relid = get_relname_relid(name, schema);
	if (!OidIsValid(relid))
		elog(ERROR, "dlq: relation dlq.%s is missing", name);
	return relid;
}

void
RequireHeap(Relation job_rel) {
	if (job_rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("dlq.job must use the heap access method"),
		                errhint("Recreate the extension with default_table_access_method = heap.")));
}

bool
ReadQueue(Oid schema, Snapshot snapshot, Datum queue_name, QueueRow *out) {
	Relation queue_rel = table_open(RelationInDlq(schema, "queue"), AccessShareLock);
	Relation name_index = index_open(RelationInDlq(schema, "queue_name_key"), AccessShareLock);
	const QueueColumns &columns = ColumnsOfQueue(queue_rel);
	ScanKeyData key;
	// The index's own collation: the tree is ordered by it, and texteq needs one.
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid, name_index->rd_indcollation[0], F_TEXTEQ,
	                       queue_name);
	IndexScanDesc scan = index_beginscan(queue_rel, name_index, snapshot, 1, 0);
	index_rescan(scan, &key, 1, nullptr, 0);
	TupleTableSlot *slot = table_slot_create(queue_rel, nullptr);
	bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found) {
		bool isnull;
		out->id = DatumGetInt32(slot_getattr(slot, columns.id, &isnull));
		out->max_attempts = DatumGetInt32(slot_getattr(slot, columns.max_attempts, &isnull));
		out->lease = datumCopy(slot_getattr(slot, columns.lease, &isnull), false, sizeof(Interval));
		out->paused = DatumGetBool(slot_getattr(slot, columns.paused, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(name_index, NoLock);
	table_close(queue_rel, NoLock);
	return found;
}

void
InsertIndexEntries(IndexInserter *inserter, Relation job_rel, TupleTableSlot *slot) {
	BeginIndexEntries(inserter, job_rel);
	// update = false: true only asks whether the statement changed an indexed column, which reads the
	// range table a plain EState does not have (the answer is only a hint to the index).
	List *unused = ExecInsertIndexTuples(inserter->result_rel, slot, inserter->estate, false, false, nullptr, NIL);
	list_free(unused);
	ResetPerTupleExprContext(inserter->estate);
}

void
InsertIndexEntriesOf(IndexInserter *inserter, Relation job_rel, HeapTuple tuple) {
	BeginIndexEntries(inserter, job_rel);
	ExecStoreHeapTuple(tuple, inserter->slot, false);
	InsertIndexEntries(inserter, job_rel, inserter->slot);
	ExecClearTuple(inserter->slot); // the tuple is the caller's
}

void
EndIndexEntries(IndexInserter *inserter) {
	if (inserter->estate == nullptr)
		return;
	ExecDropSingleTupleTableSlot(inserter->slot);
	ExecCloseIndices(inserter->result_rel);
	FreeExecutorState(inserter->estate);
	*inserter = kNoIndexInserter;
}

} // namespace dlq::pg::store
