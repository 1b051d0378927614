// The enqueue, run without the executor when nothing but dlq's own trigger watches dlq.job: the jobs
// are formed here and written with heap_insert (one job) or heap_multi_insert (a batch: one WAL record
// per page rather than per job), then their index entries by the executor's own routine. As a SQL
// statement, an INSERT cost a nested executor start-up per call, more than the writes themselves.
// Around a write, the pages earlier writes left are pruned once their jobs are done and offered to it
// through the free space map (job_page_reuse.hpp), so that the table does not grow while jobs churn.
//
// What the executor would do besides, and how it is kept:
//  - the job_written trigger notes writes from outside the API for the claim hints; these writes are the
//    API's, noted here directly (NoteWrittenKey), as the statements note theirs;
//  - any other trigger, a rule, a CHECK constraint, a column this file does not know or of another type,
//    a NOT NULL or a default it would not honour (all added by hand), or another access method: the
//    caller runs the SQL statement instead (kNotDirect);
//  - a dedup key: the caller runs the statement, whose ON CONFLICT needs the executor;
//  - read-only and parallel mode: the callers (fn_jobs.cpp) refuse them for both paths (25006);
//  - the primary key's uniqueness is checked by the index, and a large payload is moved out of line
//    by heap_insert, as for any INSERT.
//
// Plain C style like the fmgr entry points (guard.hpp): only PODs and Datums live across PostgreSQL calls.
#include "core/claim_hint.hpp"
#include "core/job_id.hpp"
#include "pg/claim_hint.hpp"
#include "pg/job_page_reuse.hpp"
#include "pg/job_relations.hpp"
#include "pg/job_store.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "rewrite/prs2lock.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace dlq::pg::store {

namespace {

// The columns of dlq.job, by what an enqueue stores in them.
enum JobColumn {
	kId, kEnqueuedAt, kQueueId, kPriority, kMaxAttempts, kKind, kTenant, kActor, kPayload, kRunAt, kAttempt,
	// null in a new job
	kReplayedFrom, kDedupKey, kFirstFailedAt, kLastError, kErrors, kFirstAttemptedAt, kLeaseExpiresAt, kWorker,
	kJobColumns
};
constexpr const char *kColumnNames[kJobColumns] = {
    "id",           "enqueued_at", "queue_id",  "priority",        "max_attempts",       "kind",
    "tenant",       "actor",       "payload",   "run_at",          "attempt",            "replayed_from",
    "dedup_key",    "first_failed_at", "last_error", "errors",     "first_attempted_at", "lease_expires_at",
    "worker"};

// The type each column has in dlq--0.1.0.sql.
constexpr Oid kColumnTypes[kJobColumns] = {
    INT8OID,  TIMESTAMPTZOID, INT4OID,        INT4OID, INT4OID,  TEXTOID,        TEXTOID,
    TEXTOID,  JSONBOID,       TIMESTAMPTZOID, INT4OID, INT8OID,  TEXTOID,        TIMESTAMPTZOID,
    TEXTOID,  JSONBOID,       TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};

// Columns that have a default in dlq--0.1.0.sql; the jobs formed here set them all.
bool
HasOwnDefault(int column) {
	return column == kEnqueuedAt || column == kPriority || column == kAttempt;
}

// Columns a new job may leave null (no NOT NULL in dlq--0.1.0.sql).
bool
MayBeNull(int column) {
	return column == kTenant || column == kActor || column >= kReplayedFrom;
}

// Where each column sits in the table's tuples (0-based), for the table (and the relcache generation)
// it was resolved for, and whether the table is still as the extension created it: only its columns,
// of their types, no NOT NULL on a column a new job leaves null, no default on a column without one.
struct Layout {
	ColumnCacheKey key; // a change of the columns invalidates the relcache entry, and so the key
	bool as_created;
	int index[kJobColumns];
};
Layout layout = {kNoColumnCache, false, {}};

const Layout &
LayoutOf(Relation rel) {
	TupleDesc desc = RelationGetDescr(rel);
	if (ColumnCacheIsCurrent(layout.key, rel))
		return layout;
	layout = Layout{ColumnCacheKeyOf(rel), true, {}};
	for (int &index : layout.index)
		index = -1;
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		if (attr->attisdropped)
			continue;
		int column = 0;
		while (column < kJobColumns && strcmp(NameStr(attr->attname), kColumnNames[column]) != 0)
			column++;
		if (column == kJobColumns || attr->atttypid != kColumnTypes[column] || attr->attgenerated != '\0' ||
		    (attr->attnotnull && MayBeNull(column)) || (attr->atthasdef && !HasOwnDefault(column)))
			layout.as_created = false;
		else
			layout.index[column] = i;
	}
	for (int index : layout.index)
		layout.as_created = layout.as_created && index >= 0;
	return layout;
}

// Whether an INSERT into dlq.job would run nothing this file does not do itself: no rule, no trigger and
// no CHECK constraint but dlq's own, the columns as created.
bool
CanInsertDirectly(Relation rel) {
	// rd_rules, not relhasrules: pg_class keeps that set after the last rule is dropped.
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID || (rel->rd_rules != nullptr && rel->rd_rules->numLocks > 0))
		return false;
	if (rel->trigdesc != nullptr)
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
			if (strcmp(rel->trigdesc->triggers[i].tgname, "job_written") != 0)
				return false;
	// Only dlq's own CHECK, which the ids formed here meet (core::MakeJobId).
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	if (constr != nullptr)
		for (int i = 0; i < constr->num_check; i++)
			if (strcmp(constr->check[i].ccname, "job_id_carries_queue") != 0)
				return false;
	return LayoutOf(rel).as_created;
}

// One job's values, as the SQL statement computes them (defaults applied).
struct NewJob {
	Datum kind;
	Datum payload;
	TimestampTz run_at;
	int32 priority;
	int32 max_attempts;
	Datum tenant;
	bool tenant_is_null;
	Datum actor;
	bool actor_is_null;
};

// An open direct insert: dlq.job locked, a snapshot pushed, the queue read.
struct Insert {
	Relation rel;
	const Layout *layout;
	QueueRow queue;
	Oid sequence;
	TimestampTz now;
	CommandId command;
	IndexInserter inserter;
	// The lowest key written to each claim lane, for the hints.
	core::ClaimKey lowest_indexed;
	bool wrote_indexed;
	int64 lowest_plain;
	bool wrote_plain;
};

// Opens the insert; false, with kNotDirect or kUnknownQueue in *refused, when it cannot.
bool
BeginInsert(Datum queue_name, Insert *insert, DirectInsert *refused) {
	Oid schema = get_namespace_oid("dlq", false);
	// Locked before the snapshot is taken, as a statement locks its tables before it runs.
	insert->rel = table_open(RelationInDlq(schema, "job"), RowExclusiveLock);
	if (!CanInsertDirectly(insert->rel)) {
		table_close(insert->rel, NoLock);
		*refused = DirectInsert::kNotDirect;
		return false;
	}
	// A snapshot of its own, as the statement had: the queue's row as of now in READ COMMITTED, and
	// what this transaction wrote before.
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!ReadQueue(schema, GetActiveSnapshot(), queue_name, &insert->queue)) {
		PopActiveSnapshot();
		table_close(insert->rel, NoLock);
		*refused = DirectInsert::kUnknownQueue;
		return false;
	}
	// A transaction snapshot may predate a drop_queue that committed while this waited for its lock on
	// dlq.job: the job would outlive its queue. The latest snapshot tells, as a foreign key check would.
	if (IsolationUsesXactSnapshot()) {
		QueueRow latest;
		PushActiveSnapshot(GetLatestSnapshot());
		bool still = ReadQueue(schema, GetActiveSnapshot(), queue_name, &latest) && latest.id == insert->queue.id;
		PopActiveSnapshot();
		if (!still)
			ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			                errmsg("could not serialize access due to a concurrent drop of the queue"),
			                errhint("Retry the transaction.")));
	}
	insert->layout = &LayoutOf(insert->rel);
	insert->sequence = RelationInDlq(schema, "job_id_seq");
	insert->now = GetCurrentTransactionStartTimestamp(); // now()
	insert->command = GetCurrentCommandId(true);
	insert->inserter = kNoIndexInserter;
	insert->lowest_indexed = core::ClaimKey{0, 0, 0};
	insert->wrote_indexed = false;
	insert->lowest_plain = 0;
	insert->wrote_plain = false;
	return true;
}

// The payload of a job enqueued without one.
Datum
EmptyPayload() {
	return DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
}

// The id of a new job of the queue (core/job_id.hpp), from the next value of dlq.job_id_seq. Its bounds
// are the sequences' (MAXVALUE), checked again here: a queue id or a value out of them (set by hand)
// would make an id of another queue, or of no queue.
int64
NewJobId(int32 queue_id, bool plain, Oid sequence) {
	if (queue_id < 1 || queue_id > core::kMaxQueueId)
		ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
		                errmsg("queue id %d is out of the range a job id can carry", queue_id),
		                errdetail("Queue ids run from 1 to %d.", core::kMaxQueueId)));
	int64 n = nextval_internal(sequence, true);
	if (n < 1 || n > core::kMaxJobSequence)
		ereport(ERROR, (errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
		                errmsg("dlq.job_id_seq gave %lld, out of the range of job numbers", static_cast<long long>(n)),
		                errdetail("Job numbers run from 1 to %lld.", static_cast<long long>(core::kMaxJobSequence))));
	return core::MakeJobId(queue_id, plain, n);
}

// Forms the tuple of a new job (id drawn from the sequence) and notes its key in its claim lane.
HeapTuple
FormJob(Insert *insert, const NewJob &job, int64 *id) {
	bool plain = core::BornPlain(job.priority, job.run_at, insert->now);
	*id = NewJobId(insert->queue.id, plain, insert->sequence);
	const int *at = insert->layout->index;
	int natts = RelationGetDescr(insert->rel)->natts;
	Datum *values = static_cast<Datum *>(palloc0(sizeof(Datum) * natts));
	bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * natts));
	for (int i = 0; i < natts; i++)
		nulls[i] = true; // dropped columns, and the columns null in a new job
	auto set = [&](int column, Datum value, bool is_null) {
		values[at[column]] = value;
		nulls[at[column]] = is_null;
	};
	set(kId, Int64GetDatum(*id), false);
	set(kEnqueuedAt, TimestampTzGetDatum(insert->now), false);
	set(kQueueId, Int32GetDatum(insert->queue.id), false);
	set(kPriority, Int32GetDatum(job.priority), false);
	set(kMaxAttempts, Int32GetDatum(job.max_attempts), false);
	set(kKind, job.kind, false);
	set(kTenant, job.tenant, job.tenant_is_null);
	set(kActor, job.actor, job.actor_is_null);
	set(kPayload, job.payload, false);
	set(kRunAt, TimestampTzGetDatum(job.run_at), false);
	set(kAttempt, Int32GetDatum(0), false);
	HeapTuple tuple = heap_form_tuple(RelationGetDescr(insert->rel), values, nulls);
	pfree(values);
	pfree(nulls);

	if (plain) {
		if (!insert->wrote_plain || *id < insert->lowest_plain)
			insert->lowest_plain = *id;
		insert->wrote_plain = true;
	} else {
		core::ClaimKey key{job.priority, job.run_at, *id};
		if (!insert->wrote_indexed || core::KeyBefore(key, insert->lowest_indexed))
			insert->lowest_indexed = key;
		insert->wrote_indexed = true;
	}
	return tuple;
}

void
EndInsert(Insert *insert) {
	EndIndexEntries(&insert->inserter);
	PopActiveSnapshot();
	// As after a statement: later commands of the transaction see the jobs.
	CommandCounterIncrement();
	table_close(insert->rel, NoLock);
	if (insert->wrote_indexed)
		hint::NoteWrittenKey(insert->queue.id, false, insert->lowest_indexed);
	if (insert->wrote_plain)
		hint::NoteWrittenKey(insert->queue.id, true, core::PlainLaneKey(insert->lowest_plain));
}

// ---- a batch's elements (validated by core::ValidateJobBatch) --------------------------------------

// The element's field, or false when it is absent or JSON null.
bool
Field(JsonbContainer *element, const char *name, JsonbValue *out) {
	return getKeyJsonValueFromContainer(element, name, strlen(name), out) != nullptr && out->type != jbvNull;
}

Datum
TextField(JsonbContainer *element, const char *name, bool *is_null) {
	JsonbValue value;
	*is_null = !Field(element, name, &value);
	if (*is_null)
		return (Datum)0;
	if (value.type != jbvString)
		elog(ERROR, "dlq: jobs element field \"%s\" is not a string after validation", name);
	return PointerGetDatum(cstring_to_text_with_len(value.val.string.val, value.val.string.len));
}

int32
IntField(JsonbContainer *element, const char *name, int32 when_absent) {
	JsonbValue value;
	if (!Field(element, name, &value))
		return when_absent;
	if (value.type != jbvNumeric)
		elog(ERROR, "dlq: jobs element field \"%s\" is not a number after validation", name);
	return DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(value.val.numeric)));
}

NewJob
ElementJob(const Insert *insert, JsonbContainer *element) {
	NewJob job;
	bool is_null;
	job.kind = TextField(element, "kind", &is_null);
	if (is_null)
		elog(ERROR, "dlq: jobs element without a kind after validation");
	JsonbValue value;
	// Any JSON value; absent or null is {} (jsonb_to_recordset made JSON null a SQL null).
	job.payload = Field(element, "payload", &value) ? JsonbPGetDatum(JsonbValueToJsonb(&value)) : EmptyPayload();
	if (Field(element, "run_at", &value)) {
		if (value.type != jbvString)
			elog(ERROR, "dlq: jobs element field \"run_at\" is not a string after validation");
		char *text = pnstrdup(value.val.string.val, value.val.string.len);
		job.run_at = DatumGetTimestampTz(
		    DirectFunctionCall3(timestamptz_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
		pfree(text);
	} else {
		job.run_at = insert->now;
	}
	job.priority = IntField(element, "priority", 0);
	job.max_attempts = IntField(element, "max_attempts", insert->queue.max_attempts);
	job.tenant = TextField(element, "tenant", &job.tenant_is_null);
	job.actor = TextField(element, "actor", &job.actor_is_null);
	return job;
}

// Jobs per heap_multi_insert: bounds the memory of a 10,000-job batch of large payloads.
constexpr int kChunk = 100;

// Runs in the chunk's memory context; the index inserter's state outlives it, in `call_context`.
void
WriteChunk(Insert *insert, MemoryContext call_context, TupleTableSlot **slots, int count) {
	BlockNumber tried_first = ReuseLeftPages(insert->rel);
	heap_multi_insert(insert->rel, slots, count, insert->command, 0, nullptr); // sets each slot's tts_tid
	BlockNumber written[kChunk];
	for (int i = 0; i < count; i++)
		written[i] = ItemPointerGetBlockNumber(&slots[i]->tts_tid);
	NoteLeftPages(insert->rel, tried_first, written, count);
	MemoryContext chunk_context = MemoryContextSwitchTo(call_context);
	for (int i = 0; i < count; i++)
		InsertIndexEntries(&insert->inserter, insert->rel, slots[i]);
	MemoryContextSwitchTo(chunk_context);
	for (int i = 0; i < count; i++)
		ExecClearTuple(slots[i]);
}

} // namespace

DirectInsert
InsertJobDirectly(const Datum *values, const char *nulls, int64 *id) {
	if (nulls[kNewDedupKey] != 'n')
		return DirectInsert::kNotDirect;
	Insert insert;
	DirectInsert refused;
	if (!BeginInsert(values[kNewQueue], &insert, &refused))
		return refused;
	NewJob job;
	job.kind = values[kNewKind];
	job.payload = nulls[kNewPayload] == 'n' ? EmptyPayload() : values[kNewPayload];
	job.run_at = nulls[kNewRunAt] == 'n' ? insert.now : DatumGetTimestampTz(values[kNewRunAt]);
	job.priority = nulls[kNewPriority] == 'n' ? 0 : DatumGetInt32(values[kNewPriority]);
	job.max_attempts = nulls[kNewMaxAttempts] == 'n' ? insert.queue.max_attempts : DatumGetInt32(values[kNewMaxAttempts]);
	job.tenant = values[kNewTenant];
	job.tenant_is_null = nulls[kNewTenant] == 'n';
	job.actor = values[kNewActor];
	job.actor_is_null = nulls[kNewActor] == 'n';
	HeapTuple tuple = FormJob(&insert, job, id);
	BlockNumber tried_first = ReuseLeftPages(insert.rel);
	heap_insert(insert.rel, tuple, insert.command, 0, nullptr); // sets tuple->t_self
	BlockNumber written = ItemPointerGetBlockNumber(&tuple->t_self);
	NoteLeftPages(insert.rel, tried_first, &written, 1);
	InsertIndexEntriesOf(&insert.inserter, insert.rel, tuple);
	heap_freetuple(tuple);
	EndInsert(&insert);
	return DirectInsert::kInserted;
}

DirectInsert
InsertJobBatchDirectly(Datum queue_name, Jsonb *jobs, int count, int64 *ids) {
	Insert insert;
	DirectInsert refused;
	if (!BeginInsert(queue_name, &insert, &refused))
		return refused;
	MemoryContext chunk_context = AllocSetContextCreate(CurrentMemoryContext, "dlq enqueue chunk", ALLOCSET_DEFAULT_SIZES);
	TupleTableSlot *slots[kChunk];
	for (TupleTableSlot *&slot : slots)
		slot = MakeSingleTupleTableSlot(RelationGetDescr(insert.rel), &TTSOpsHeapTuple);

	JsonbIterator *it = JsonbIteratorInit(&jobs->root); // outside the chunk context, which is reset
	JsonbValue element;
	int filled = 0;
	int written = 0;
	MemoryContext outer = MemoryContextSwitchTo(chunk_context);
	JsonbIteratorToken token;
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE) {
		if (token != WJB_ELEM)
			continue;
		if (element.type != jbvBinary || written + filled >= count)
			elog(ERROR, "dlq: jobs element %d is not an object after validation", written + filled);
		NewJob job = ElementJob(&insert, element.val.binary.data);
		HeapTuple tuple = FormJob(&insert, job, &ids[written + filled]);
		ExecStoreHeapTuple(tuple, slots[filled], true); // freed when the slot is cleared
		if (++filled == kChunk) {
			WriteChunk(&insert, outer, slots, filled);
			written += filled;
			filled = 0;
			MemoryContextReset(chunk_context);
		}
	}
	if (filled > 0)
		WriteChunk(&insert, outer, slots, filled);
	written += filled;
	MemoryContextSwitchTo(outer);
	if (written != count)
		elog(ERROR, "dlq: jobs has %d elements, validation counted %d", written, count);
	for (TupleTableSlot *slot : slots)
		ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(chunk_context);
	EndInsert(&insert);
	return DirectInsert::kInserted;
}

} // namespace dlq::pg::store

extern "C" {

// dlq._new_job_id(queue_id, priority, run_at): the id of a new job (core/job_id.hpp), for the statements
// that insert jobs. The sequence's MAXVALUE and the queue id sequence's keep it in range.
PG_FUNCTION_INFO_V1(dlq_new_job_id);
Datum
dlq_new_job_id(PG_FUNCTION_ARGS) {
	int32 queue_id = PG_GETARG_INT32(0);
	int32 priority = PG_GETARG_INT32(1);
	TimestampTz run_at = PG_GETARG_TIMESTAMPTZ(2);
	bool plain = dlq::core::BornPlain(priority, run_at, GetCurrentTransactionStartTimestamp());
	Oid sequence = dlq::pg::store::RelationInDlq(get_namespace_oid("dlq", false), "job_id_seq");
	PG_RETURN_INT64(dlq::pg::store::NewJobId(queue_id, plain, sequence));
}

} // extern "C"
