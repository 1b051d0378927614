// See job_access.hpp.
#include "pg/job_access.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/pg_am_d.h"
#include "executor/tuptable.h"
#include "tcop/utility.h"
#include "utils/lsyscache.h"
}

namespace dlq::pg::store {

namespace {
Oid job_columns_of = InvalidOid;
JobColumns job_columns;
} // namespace

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

const JobColumns &
ColumnsOfJob(Relation rel) {
	if (job_columns_of != RelationGetRelid(rel)) {
		job_columns = JobColumns{ColumnNumber(rel, "id"),           ColumnNumber(rel, "enqueued_at"),
		                         ColumnNumber(rel, "queue_id"),     ColumnNumber(rel, "priority"),
		                         ColumnNumber(rel, "max_attempts"), ColumnNumber(rel, "kind"),
		                         ColumnNumber(rel, "tenant"),       ColumnNumber(rel, "payload"),
		                         ColumnNumber(rel, "run_at"),       ColumnNumber(rel, "first_attempted_at"),
		                         ColumnNumber(rel, "attempt"),      ColumnNumber(rel, "lease_expires_at"),
		                         ColumnNumber(rel, "worker")};
		job_columns_of = RelationGetRelid(rel);
	}
	return job_columns;
}

Oid
RelationInDlq(Oid schema, const char *name) {
	Oid relid = get_relname_relid(name, schema);
	if (!OidIsValid(relid))
		elog(ERROR, "dlq: relation dlq.%s is missing", name);
	return relid;
}

Relation
OpenJobForWrite(Oid schema, const char *what) {
	// A standby's transactions are read-only too.
	PreventCommandIfReadOnly(what);
	PreventCommandIfParallelMode(what);
	Relation rel = table_open(RelationInDlq(schema, "job"), RowExclusiveLock);
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("dlq.job must use the heap access method"),
		                errhint("Recreate the extension with default_table_access_method = heap.")));
	return rel;
}

bool
HeldBy(TupleTableSlot *slot, const JobColumns &columns, Datum worker) {
	bool isnull;
	slot_getattr(slot, columns.lease_expires_at, &isnull);
	if (isnull)
		return false;
	Datum holder = slot_getattr(slot, columns.worker, &isnull);
	if (isnull)
		return false;
	// worker = $2 for text in the default collation, which is deterministic: byte equality.
	text *a = DatumGetTextPP(holder);
	text *b = DatumGetTextPP(worker);
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) && memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

} // namespace dlq::pg::store
