// Claim hints and lease bounds in shared memory. One spinlock guards the table: every operation under
// it is a few comparisons, and nothing under it can raise an error.
#include <cstring>

#include "core/claim_hint.hpp"
#include "core/job_id.hpp"
#include "core/sweep_bound.hpp"
#include "core/validation.hpp"
#include "pg/claim_hint.hpp"

#include "pg/guc.hpp"
#include "pg/spi_util.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/trigger.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
}

namespace dlq::pg::hint {

namespace {

constexpr int kSlots = 512;              // queues (of every database) that can have a hint
constexpr int kOpenSlotsPerBackend = 16; // queues one transaction may write before it counts as unknown
constexpr int kCachedQueues = 8;
constexpr int kDatabases = 64;           // databases whose sweeps can be bounded

struct Slot {
	Oid database; // InvalidOid: free. Slots are never freed: a dropped queue's slot is only wasted.
	int32 queue_id; // negated for the queue's plain lane (LaneSlotId)
	core::ClaimHint hint;
	core::LeaseBound lease_bound; // see core/sweep_bound.hpp
};

struct Database {
	Oid database; // InvalidOid: free
	core::SweepState sweep;
};

struct Table {
	slock_t lock;
	core::ClaimHint unknown; // writes outside the API: its counts gate every hint
	bool untracked;          // a claim found no free slot for its lease bound: no sweep is bounded
	// Transactions older than this table are counted nowhere: prepared ones survive a restart (their
	// writers' counts do not), and their jobs appear at COMMIT PREPARED. No hint moves until every
	// transaction id assigned before the server's first claim began (first_claim_next_xid, 64-bit so that
	// no wraparound makes it look new again; 0 until that claim) has ended, for every database of the
	// cluster.
	bool older_transactions_ended;
	uint64 first_claim_next_xid;
	Slot slots[kSlots];
	Database databases[kDatabases];
};

Table *table = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

// This backend's transaction: the slots it counts as an open writer of, and whether it is an open
// unknown writer.
int open_slots[kOpenSlotsPerBackend];
int open_slot_count = 0;
bool open_unknown = false;
int open_sweep_database = -1; // the database whose sweeps this transaction's unknown writes unbounded
bool api_write = false;
bool callbacks_registered = false;

// Queue ids by name, so that a claim (called with a name) reads its hint before its statement resolves
// the name. A stale entry is harmless: the claim statement ignores a start whose queue is not the name's.
struct CachedQueue {
	int32 id;
	int length;
	char name[core::kMaxNameBytes];
};
CachedQueue cached_queues[kCachedQueues];
int next_cached_queue = 0;

void
RequestSharedMemory() {
	if (previous_request_hook)
		previous_request_hook();
	RequestAddinShmemSpace(sizeof(Table));
}

void
StartSharedMemory() {
	if (previous_startup_hook)
		previous_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bool found;
	table = static_cast<Table *>(ShmemInitStruct("dlq claim hints", sizeof(Table), &found));
	if (!found) {
		SpinLockInit(&table->lock);
		table->unknown = core::ClaimHint{};
		table->untracked = false;
		table->older_transactions_ended = false;
		table->first_claim_next_xid = 0;
		for (Slot &slot : table->slots)
			slot = Slot{InvalidOid, 0, core::ClaimHint{}, core::LeaseBound{}};
		for (Database &database : table->databases)
			database = Database{InvalidOid, core::SweepState{}};
	}
	LWLockRelease(AddinShmemInitLock);
}

// The slot id of a queue's claim lane.
int32
LaneSlotId(int32 queue_id, bool plain_lane) {
	return plain_lane ? -queue_id : queue_id;
}

// Under the lock. The slot of (MyDatabaseId, queue_id), created when `create`; -1 when absent or full.
int
FindSlot(int32 queue_id, bool create) {
	uint32 start = (static_cast<uint32>(MyDatabaseId) * 2654435761u + static_cast<uint32>(queue_id)) % kSlots;
	for (int probe = 0; probe < kSlots; probe++) {
		int index = static_cast<int>((start + probe) % kSlots);
		Slot &slot = table->slots[index];
		if (slot.database == MyDatabaseId && slot.queue_id == queue_id)
			return index;
		if (slot.database == InvalidOid) {
			if (!create)
				return -1;
			slot.database = MyDatabaseId;
			slot.queue_id = queue_id;
			slot.hint = core::ClaimHint{};
			slot.lease_bound = core::LeaseBound{};
			return index;
		}
	}
	return -1;
}

// Under the lock. This database's sweep state, created when absent; -1 when the array is full.
int
FindDatabase() {
	for (int index = 0; index < kDatabases; index++) {
		Database &database = table->databases[index];
		if (database.database == MyDatabaseId)
			return index;
		if (database.database == InvalidOid) {
			database.database = MyDatabaseId;
			database.sweep = core::SweepState{};
			return index;
		}
	}
	return -1;
}

// Under the lock. Writers that cannot be told apart by queue: every hint of the database goes back to
// its queue's start, and no hint moves until this transaction has ended.
void
NoteUnknownWriteLocked() {
	core::NoteUnknownWrite(table->unknown, !open_unknown);
	open_unknown = true;
	for (Slot &slot : table->slots)
		if (slot.database == MyDatabaseId)
			core::ResetHint(slot.hint);
	// It may also have made jobs running above the lease bounds (an insert of a running job, a moved key).
	int database = FindDatabase();
	if (database < 0) {
		table->untracked = true;
		return;
	}
	core::NoteUnknownSweepWrite(table->databases[database].sweep, open_sweep_database < 0);
	open_sweep_database = database;
}

// A transaction's end (commit or abort): it is no longer an open writer. Runs after the transaction
// has left the proc array, so a claim that begins after this sees what it committed.
void
EndTransaction(XactEvent event, void *) {
	switch (event) {
	case XACT_EVENT_COMMIT:
	case XACT_EVENT_ABORT:
	case XACT_EVENT_PARALLEL_COMMIT:
	case XACT_EVENT_PARALLEL_ABORT:
		if (open_slot_count > 0 || open_unknown) {
			SpinLockAcquire(&table->lock);
			for (int i = 0; i < open_slot_count; i++)
				core::EndWriter(table->slots[open_slots[i]].hint);
			if (open_unknown)
				core::EndWriter(table->unknown);
			if (open_sweep_database >= 0)
				core::EndUnknownSweepWriter(table->databases[open_sweep_database].sweep);
			SpinLockRelease(&table->lock);
		}
		break;
	case XACT_EVENT_PREPARE:
		// Its jobs become visible at COMMIT PREPARED, maybe in another backend: the transaction stays
		// counted as open, so the hints it wrote to stop moving (claims read those queues from their
		// start) until the server restarts.
		break;
	default:
		return;
	}
	open_slot_count = 0;
	open_unknown = false;
	open_sweep_database = -1;
	api_write = false;
}

void
EndSubTransaction(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
	if (event == SUBXACT_EVENT_ABORT_SUB)
		api_write = false;
}

void
RegisterCallbacks() {
	if (callbacks_registered)
		return;
	RegisterXactCallback(EndTransaction, nullptr);
	RegisterSubXactCallback(EndSubTransaction, nullptr);
	callbacks_registered = true;
}

// Under the lock: one written job (or the lowest key of several) of a queue's lane.
void
NoteWriteLocked(int32 slot_id, const core::ClaimKey &key) {
	int index = FindSlot(slot_id, true);
	if (index < 0)
		return; // table full: no claim can have a hint for this queue either
	bool open = false;
	for (int i = 0; i < open_slot_count; i++)
		open = open || open_slots[i] == index;
	if (!open && open_slot_count == kOpenSlotsPerBackend) {
		NoteUnknownWriteLocked();
		return;
	}
	core::NoteWrite(table->slots[index].hint, key, !open);
	if (!open)
		open_slots[open_slot_count++] = index;
}

// The lane slot id and key of a written job: (id, queue_id, priority, run_at, enqueued_at) from
// key_column on. A null id (a dedup conflict: nothing inserted) counts as below every id of the claim
// index lane.
core::ClaimKey
RowKey(HeapTuple row, TupleDesc desc, int key_column, int32 *slot_id) {
	bool id_is_null;
	bool isnull;
	Datum id = SPI_getbinval(row, desc, key_column, &id_is_null);
	int32 queue_id = DatumGetInt32(SPI_getbinval(row, desc, key_column + 1, &isnull));
	if (id_is_null) {
		*slot_id = LaneSlotId(queue_id, false);
		return core::kLowestClaimKey;
	}
	core::ClaimKey key;
	key.id = DatumGetInt64(id);
	key.priority = DatumGetInt32(SPI_getbinval(row, desc, key_column + 2, &isnull));
	key.run_at = DatumGetTimestampTz(SPI_getbinval(row, desc, key_column + 3, &isnull));
	TimestampTz enqueued_at = DatumGetTimestampTz(SPI_getbinval(row, desc, key_column + 4, &isnull));
	bool plain = !core::InClaimIndex(key.id, key.priority, key.run_at, enqueued_at);
	*slot_id = LaneSlotId(queue_id, plain);
	return plain ? core::PlainLaneKey(key.id) : key;
}

// This backend's cache entry for a queue name, or nullptr.
CachedQueue *
FindCachedQueue(text *name) {
	int length = VARSIZE_ANY_EXHDR(name);
	for (CachedQueue &cached : cached_queues)
		if (cached.id != 0 && cached.length == length && memcmp(cached.name, VARDATA_ANY(name), length) == 0)
			return &cached;
	return nullptr;
}

int32
CachedQueueId(Datum queue_name) {
	CachedQueue *cached = FindCachedQueue(DatumGetTextPP(queue_name));
	return cached == nullptr ? 0 : cached->id;
}

void
RememberQueueId(Datum queue_name, int32 queue_id) {
	text *name = DatumGetTextPP(queue_name);
	int length = VARSIZE_ANY_EXHDR(name);
	if (CachedQueue *cached = FindCachedQueue(name)) {
		cached->id = queue_id;
		return;
	}
	if (length > static_cast<int>(core::kMaxNameBytes))
		return;
	CachedQueue &slot = cached_queues[next_cached_queue];
	next_cached_queue = (next_cached_queue + 1) % kCachedQueues;
	slot.id = queue_id;
	slot.length = length;
	memcpy(slot.name, VARDATA_ANY(name), length);
}

} // namespace

void
InstallSharedMemoryHooks() {
	previous_request_hook = shmem_request_hook;
	shmem_request_hook = RequestSharedMemory;
	previous_startup_hook = shmem_startup_hook;
	shmem_startup_hook = StartSharedMemory;
}

void
NoteUnknownWrite() {
	if (table == nullptr)
		return;
	RegisterCallbacks();
	SpinLockAcquire(&table->lock);
	NoteUnknownWriteLocked();
	SpinLockRelease(&table->lock);
}

void
BeginApiWrite() {
	// The callbacks reset the flag when the write fails: registered only later (at the first noted write),
	// a backend whose first API write failed kept it set, and the trigger then took its writes outside
	// the API for the API's own, leaving the claim hints past the jobs they wrote.
	RegisterCallbacks();
	api_write = true;
}

void
EndApiWrite() {
	api_write = false;
}

void
NoteWrittenRows(int key_column) {
	if (table == nullptr || SPI_processed == 0)
		return;
	RegisterCallbacks();
	// Keys are read outside the lock. Rows of one statement mostly belong to one queue: the lowest key
	// of each run of rows of one queue is noted.
	TupleDesc desc = SPI_tuptable->tupdesc;
	uint64 row = 0;
	while (row < SPI_processed) {
		int32 lane;
		core::ClaimKey lowest = RowKey(SPI_tuptable->vals[row], desc, key_column, &lane);
		for (row++; row < SPI_processed; row++) {
			int32 row_lane;
			core::ClaimKey key = RowKey(SPI_tuptable->vals[row], desc, key_column, &row_lane);
			if (row_lane != lane)
				break;
			if (core::KeyBefore(key, lowest))
				lowest = key;
		}
		SpinLockAcquire(&table->lock);
		NoteWriteLocked(lane, lowest);
		SpinLockRelease(&table->lock);
	}
}

void
NoteWrittenKey(int32 queue_id, bool plain_lane, const core::ClaimKey &lowest) {
	if (table == nullptr)
		return;
	RegisterCallbacks();
	SpinLockAcquire(&table->lock);
	NoteWriteLocked(LaneSlotId(queue_id, plain_lane), lowest);
	SpinLockRelease(&table->lock);
}

void
BeginClaim(Datum queue_name, ClaimBegin *index_lane, ClaimBegin *plain_lane) {
	ClaimBegin *lanes[2] = {index_lane, plain_lane};
	for (ClaimBegin *lane : lanes)
		*lane = ClaimBegin{0, -1, {core::kLowestClaimKey, 0, false, false}, {core::kLowestClaimKey, 0, false, false},
		                   false, false};
	if (table == nullptr || !guc_claim_hints)
		return;
	// The server's first claim notes the next xid before its snapshot is taken (so that, with nothing
	// older running, that snapshot's xmin reaches it already). Read before the spinlock: an LWLock.
	if (!table->older_transactions_ended) {
		uint64 next_xid = U64FromFullTransactionId(ReadNextFullTransactionId());
		SpinLockAcquire(&table->lock);
		if (table->first_claim_next_xid == 0) // a next xid is never 0 (FirstNormalTransactionId is 3)
			table->first_claim_next_xid = next_xid;
		SpinLockRelease(&table->lock);
	}
	int32 queue_id = CachedQueueId(queue_name);
	if (queue_id == 0)
		return;
	SpinLockAcquire(&table->lock);
	core::ClaimStart unknown = core::BeginClaim(table->unknown);
	for (int plain = 0; plain < 2; plain++) {
		int index = FindSlot(LaneSlotId(queue_id, plain == 1), true);
		if (index < 0)
			continue;
		ClaimBegin *lane = lanes[plain];
		lane->queue_id = queue_id;
		lane->slot = index;
		lane->queue = core::BeginClaim(table->slots[index].hint);
		lane->unknown = unknown;
		lane->older_transactions_ended = table->older_transactions_ended;
	}
	SpinLockRelease(&table->lock);
	// Only a snapshot taken after this point may move a hint: not a transaction snapshot taken earlier.
	// And only in a transaction that has changed nothing yet: jobs it completed are invisible to its own
	// snapshot, and its abort would bring them back (with their claims undone) behind the hint.
	bool fresh_snapshot = !IsolationUsesXactSnapshot() && !TransactionIdIsValid(GetTopTransactionIdIfAny());
	for (ClaimBegin *lane : lanes)
		lane->may_raise = lane->queue.may_raise && lane->unknown.may_raise && fresh_snapshot;
}

void
FinishClaim(const ClaimBegin *begun, Datum queue_name, int32 queue_id, const core::ClaimKey &first_visible,
            bool seen_waiting, const core::ClaimKey &first_waiting, TransactionId snapshot_xmin) {
	if (table == nullptr)
		return;
	if (queue_id != begun->queue_id) {
		RememberQueueId(queue_name, queue_id);
		return;
	}
	if (!begun->may_raise)
		return;
	// Ended before this claim began: its snapshot, taken after, sees all they wrote. Otherwise this
	// claim's own snapshot must show it (another claim's cannot: this one may have been taken first).
	bool older_ended = begun->older_transactions_ended;
	uint64 xmin = 0;
	if (!older_ended) {
		// Read before the spinlock (it takes an LWLock). The snapshot's xmin lies at most 2^31 ids behind.
		FullTransactionId next = ReadNextFullTransactionId();
		xmin = U64FromFullTransactionId(next) - static_cast<uint32>(XidFromFullTransactionId(next) - snapshot_xmin);
	}
	SpinLockAcquire(&table->lock);
	if (!older_ended) {
		// The snapshot's xmin is its oldest transaction still running: at or past the first claim's next
		// xid, every older transaction (a prepared one recovered at startup included) had ended.
		older_ended = xmin >= table->first_claim_next_xid;
		if (older_ended)
			table->older_transactions_ended = true;
	}
	if (older_ended && table->unknown.writes == begun->unknown.writes)
		core::FinishClaim(table->slots[begun->slot].hint, begun->queue, first_visible, seen_waiting, first_waiting);
	SpinLockRelease(&table->lock);
}

// ---- lease bounds (core/sweep_bound.hpp) ------------------------------------------------------------

void
NoteLeasedKeys(int32 queue_id, bool plain_lane, const core::ClaimKey *keys, int count_in) {
	if (table == nullptr || count_in == 0)
		return;
	// Keys come in claim order, so the last key of each priority is that priority's highest. A claim over
	// more priorities than a bound holds overflows it anyway.
	core::ClaimKey highest[core::kMaxBoundedPriorities + 1];
	int count = 0;
	for (int i = 0; i < count_in; i++) {
		const core::ClaimKey &key = keys[i];
		if (count > 0 && highest[count - 1].priority == key.priority)
			highest[count - 1] = key;
		else if (count < core::kMaxBoundedPriorities + 1)
			highest[count++] = key;
	}
	SpinLockAcquire(&table->lock);
	int index = FindSlot(LaneSlotId(queue_id, plain_lane), true);
	if (index < 0)
		table->untracked = true;
	else
		for (int i = 0; i < count; i++)
			core::RaiseLeaseBound(table->slots[index].lease_bound, highest[i]);
	SpinLockRelease(&table->lock);
}

void
BeginSweep(int32 queue_id, int64 full_pass_interval_us, SweepPlan *out) {
	TimestampTz now = GetCurrentTimestamp();
	*out = SweepPlan{true, false, -1, {}};
	out->begun.started = now;
	if (table == nullptr)
		return;
	SpinLockAcquire(&table->lock);
	int database = FindDatabase();
	if (database >= 0 && !table->untracked) {
		core::SweepState &state = table->databases[database].sweep;
		out->full = core::NeedsFullPass(state, now, full_pass_interval_us);
		out->database = database;
		out->begun = core::BeginFullPass(state, now);
	}
	SpinLockRelease(&table->lock);
	// Only a snapshot taken after this point counts for the full pass, and only a pass over every queue.
	out->may_bound = out->database >= 0 && queue_id == 0 && !IsolationUsesXactSnapshot();
}

void
NoteRunningRows(const SweepPlan *plan) {
	if (table == nullptr || plan->database < 0)
		return;
	bool isnull;
	for (uint64 row = 0; row < SPI_processed; row++) {
		int32 queue_id = SpiInt32(row, 1, &isnull);
		if (isnull)
			continue; // no running job
		core::ClaimKey key;
		if (queue_id < 0) {
			key = core::PlainLaneKey(SpiInt64(row, 4, &isnull));
		} else {
			key.priority = SpiInt32(row, 2, &isnull);
			key.run_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 3, &isnull));
			key.id = SpiInt64(row, 4, &isnull);
		}
		SpinLockAcquire(&table->lock);
		int index = FindSlot(queue_id, true);
		if (index < 0)
			table->untracked = true;
		else
			core::RaiseLeaseBound(table->slots[index].lease_bound, key);
		SpinLockRelease(&table->lock);
	}
}

bool
FinishFullPass(const SweepPlan *plan) {
	if (table == nullptr || plan->database < 0 || !plan->may_bound)
		return false;
	SpinLockAcquire(&table->lock);
	bool bounded = !table->untracked && core::FinishFullPass(table->databases[plan->database].sweep, plan->begun);
	SpinLockRelease(&table->lock);
	return bounded;
}

void
CollectLeaseBounds(int32 queue_id, LeaseBounds *out) {
	// Copied under the lock into room allocated before it (no allocation under a spinlock).
	struct Entry {
		int32 queue_id;
		core::ClaimKey key;
		core::ClaimKey from;
	};
	constexpr int kMostEntries = kSlots * core::kMaxBoundedPriorities;
	Entry *entries = static_cast<Entry *>(palloc(sizeof(Entry) * kMostEntries));
	int32 *unbounded = static_cast<int32 *>(palloc(sizeof(int32) * kSlots));
	int count = 0;
	int unbounded_count = 0;
	SpinLockAcquire(&table->lock);
	for (const Slot &slot : table->slots) {
		if (slot.database != MyDatabaseId || (queue_id != 0 && slot.queue_id != queue_id && slot.queue_id != -queue_id))
			continue;
		if (slot.lease_bound.overflow) {
			unbounded[unbounded_count++] = slot.queue_id < 0 ? -slot.queue_id : slot.queue_id;
			continue;
		}
		for (int32 i = 0; i < slot.lease_bound.count; i++) {
			core::ClaimKey from;
			// dlq.claim_hints = off is the advice when jobs may be written unseen (README): no hint then.
			const core::ClaimKey &hint = guc_claim_hints ? slot.hint.start : core::kLowestClaimKey;
			if (core::SweepRangeStart(slot.lease_bound.highest[i], hint, &from))
				entries[count++] = Entry{slot.queue_id, slot.lease_bound.highest[i], from};
		}
	}
	SpinLockRelease(&table->lock);
	out->unbounded_count = unbounded_count;
	out->unbounded_queue_ids = unbounded;
	Datum *queues = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
	Datum *priorities = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
	Datum *run_ats = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
	Datum *ids = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
	Datum *from_run_ats = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
	Datum *from_ids = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
	for (int i = 0; i < count; i++) {
		queues[i] = Int32GetDatum(entries[i].queue_id);
		priorities[i] = Int32GetDatum(entries[i].key.priority);
		run_ats[i] = TimestampTzGetDatum(entries[i].key.run_at);
		ids[i] = Int64GetDatum(entries[i].key.id);
		from_run_ats[i] = TimestampTzGetDatum(entries[i].from.run_at);
		from_ids[i] = Int64GetDatum(entries[i].from.id);
	}
	out->count = count;
	out->queue_ids = PointerGetDatum(construct_array(queues, count, INT4OID, 4, true, TYPALIGN_INT));
	out->priorities = PointerGetDatum(construct_array(priorities, count, INT4OID, 4, true, TYPALIGN_INT));
	out->run_ats = PointerGetDatum(
	    construct_array(run_ats, count, TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	out->ids = PointerGetDatum(construct_array(ids, count, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	out->from_run_ats = PointerGetDatum(construct_array(from_run_ats, count, TIMESTAMPTZOID, sizeof(TimestampTz),
	                                                    FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	out->from_ids =
	    PointerGetDatum(construct_array(from_ids, count, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	pfree(entries);
}

void
ForgetQueue(int32 queue_id) {
	if (table == nullptr || queue_id < 1) // not a queue's id (a negated one names a plain lane)
		return;
	SpinLockAcquire(&table->lock);
	for (bool plain_lane : {false, true}) {
		int index = FindSlot(LaneSlotId(queue_id, plain_lane), false);
		if (index < 0)
			continue;
		core::ResetHint(table->slots[index].hint);
		table->slots[index].lease_bound = core::LeaseBound{};
		// Jobs of the old queue may have outlived it (a drop racing an enqueue): a full pass bounds them.
		int database = FindDatabase();
		if (database >= 0)
			table->databases[database].sweep.bounded = false;
	}
	SpinLockRelease(&table->lock);
}

} // namespace dlq::pg::hint

extern "C" {

// Statement trigger on dlq.job for inserts and for updates of the claim key's columns: a write that
// does not come from the API (psql, COPY, a restore) may put a job anywhere in the claim index, so it
// sends every hint of the database back to its queue's start.
PG_FUNCTION_INFO_V1(dlq_job_written);
Datum
dlq_job_written(PG_FUNCTION_ARGS) {
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("dlq._job_written() must be called as a trigger")));
	using namespace dlq::pg::hint;
	if (table != nullptr && !api_write) {
		RegisterCallbacks();
		SpinLockAcquire(&table->lock);
		NoteUnknownWriteLocked();
		SpinLockRelease(&table->lock);
	}
	return PointerGetDatum(nullptr);
}

} // extern "C"

extern "C" {

// The hint of one queue of this database, for tests and for looking into a slow claim: where claims
// start (nulls: at the queue's start), writes counted, and writer transactions still open. No row when
// the queue has no hint (dlq not preloaded, or no claim or write since the server started).
PG_FUNCTION_INFO_V1(dlq_claim_hint);
Datum
dlq_claim_hint(PG_FUNCTION_ARGS) {
	using namespace dlq::pg::hint;
	int32 queue_id = PG_GETARG_INT32(0);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (table == nullptr)
		return (Datum)0;
	bool found = false;
	dlq::core::ClaimHint hint;
	dlq::core::ClaimHint unknown;
	SpinLockAcquire(&table->lock);
	int index = FindSlot(queue_id, false);
	if (index >= 0) {
		found = true;
		hint = table->slots[index].hint;
		unknown = table->unknown;
	}
	SpinLockRelease(&table->lock);
	if (!found)
		return (Datum)0;
	// Where claims start (sweeps start at hint.start, at or below it).
	const dlq::core::ClaimKey &start = hint.claim_start;
	bool at_start = !dlq::core::KeyBefore(dlq::core::kLowestClaimKey, start);
	Datum values[5] = {Int32GetDatum(start.priority), TimestampTzGetDatum(start.run_at),
	                   Int64GetDatum(start.id), Int64GetDatum(static_cast<int64>(hint.writes)),
	                   Int32GetDatum(hint.open_writers + unknown.open_writers)};
	bool nulls[5] = {at_start, at_start, at_start, false, false};
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum)0;
}

} // extern "C"

extern "C" {

// The lease bounds of one queue of this database, for tests and for looking into a slow sweep: per
// priority leased from, the highest job leased (core/sweep_bound.hpp). No row when the queue has none
// (dlq not preloaded, no claim or full pass has seen a running job of it, or it has used more
// priorities than a bound holds: sweeps then read it whole).
PG_FUNCTION_INFO_V1(dlq_lease_bounds);
Datum
dlq_lease_bounds(PG_FUNCTION_ARGS) {
	using namespace dlq::pg::hint;
	int32 queue_id = PG_GETARG_INT32(0);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (table == nullptr)
		return (Datum)0;
	dlq::core::LeaseBound bound;
	SpinLockAcquire(&table->lock);
	int index = FindSlot(queue_id, false);
	if (index >= 0)
		bound = table->slots[index].lease_bound;
	SpinLockRelease(&table->lock);
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	for (int32 i = 0; i < (bound.overflow ? 0 : bound.count); i++) {
		Datum values[3] = {Int32GetDatum(bound.highest[i].priority), TimestampTzGetDatum(bound.highest[i].run_at),
		                   Int64GetDatum(bound.highest[i].id)};
		bool nulls[3] = {false, false, false};
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum)0;
}

// Whether the next sweep of this database would be bounded (read each queue only up to its lease
// bounds, and whole the queues without one) rather than a full pass, dlq.sweep_full_pass_interval aside.
PG_FUNCTION_INFO_V1(dlq_sweeps_bounded);
Datum
dlq_sweeps_bounded(PG_FUNCTION_ARGS) {
	using namespace dlq::pg::hint;
	(void)fcinfo;
	if (table == nullptr)
		PG_RETURN_BOOL(false);
	SpinLockAcquire(&table->lock);
	bool bounded = !table->untracked;
	bool found = false;
	for (const Database &database : table->databases) {
		if (database.database == MyDatabaseId) {
			found = true;
			bounded = bounded && database.sweep.bounded;
		}
	}
	SpinLockRelease(&table->lock);
	PG_RETURN_BOOL(found && bounded);
}

} // extern "C"

extern "C" {

// Called by dlq.create_queue for the queue it created.
PG_FUNCTION_INFO_V1(dlq_forget_queue);
Datum
dlq_forget_queue(PG_FUNCTION_ARGS) {
	dlq::pg::hint::ForgetQueue(PG_GETARG_INT32(0));
	PG_RETURN_VOID();
}

} // extern "C"
