// Claim hints in shared memory. One spinlock guards the table: every operation under it is a few
// comparisons, and nothing under it can raise an error.
#include <cstring>

#include "core/claim_hint.hpp"
#include "core/validation.hpp"
#include "pg/claim_hint.hpp"

#include "pg/guc.hpp"

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

struct Slot {
	Oid database; // InvalidOid: free. Slots are never freed: a dropped queue's slot is only wasted.
	int32 queue_id;
	core::ClaimHint hint;
};

struct Table {
	slock_t lock;
	core::ClaimHint unknown; // writes outside the API: its counts gate every hint
	Slot slots[kSlots];
};

Table *table = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

// This backend's transaction: the slots it counts as an open writer of, and whether it is an open
// unknown writer.
int open_slots[kOpenSlotsPerBackend];
int open_slot_count = 0;
bool open_unknown = false;
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
		for (Slot &slot : table->slots)
			slot = Slot{InvalidOid, 0, core::ClaimHint{}};
	}
	LWLockRelease(AddinShmemInitLock);
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
			slot.hint.start = core::kLowestClaimKey;
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

// Under the lock: one written job (or the lowest key of several) of a queue.
void
NoteWriteLocked(int32 queue_id, const core::ClaimKey &key) {
	int index = FindSlot(queue_id, true);
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

// The key of a written job: (id, queue_id, priority, run_at) from key_column on; a null id (a dedup
// conflict, nothing inserted) counts as below every id.
core::ClaimKey
RowKey(HeapTuple row, TupleDesc desc, int key_column, int32 *queue_id) {
	bool isnull;
	core::ClaimKey key = core::kLowestClaimKey;
	Datum id = SPI_getbinval(row, desc, key_column, &isnull);
	if (!isnull)
		key.id = DatumGetInt64(id);
	*queue_id = DatumGetInt32(SPI_getbinval(row, desc, key_column + 1, &isnull));
	key.priority = DatumGetInt32(SPI_getbinval(row, desc, key_column + 2, &isnull));
	key.run_at = DatumGetTimestampTz(SPI_getbinval(row, desc, key_column + 3, &isnull));
	return key;
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
BeginApiWrite() {
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
		int32 queue;
		core::ClaimKey lowest = RowKey(SPI_tuptable->vals[row], desc, key_column, &queue);
		for (row++; row < SPI_processed; row++) {
			int32 row_queue;
			core::ClaimKey key = RowKey(SPI_tuptable->vals[row], desc, key_column, &row_queue);
			if (row_queue != queue)
				break;
			if (core::KeyBefore(key, lowest))
				lowest = key;
		}
		SpinLockAcquire(&table->lock);
		NoteWriteLocked(queue, lowest);
		SpinLockRelease(&table->lock);
	}
}

void
BeginClaim(Datum queue_name, ClaimBegin *out) {
	*out = ClaimBegin{0, -1, {core::kLowestClaimKey, 0, false}, {core::kLowestClaimKey, 0, false}, false};
	if (table == nullptr || !guc_claim_hints)
		return;
	int32 queue_id = CachedQueueId(queue_name);
	if (queue_id == 0)
		return;
	SpinLockAcquire(&table->lock);
	int index = FindSlot(queue_id, true);
	if (index >= 0) {
		out->queue_id = queue_id;
		out->slot = index;
		out->queue = core::BeginClaim(table->slots[index].hint);
		out->unknown = core::BeginClaim(table->unknown);
	}
	SpinLockRelease(&table->lock);
	// Only a snapshot taken after this point may move the hint: not a transaction snapshot taken earlier.
	// And only in a transaction that has changed nothing yet: jobs it completed are invisible to its own
	// snapshot, and its abort would bring them back (with their claims undone) behind the hint.
	out->may_raise = out->queue.may_raise && out->unknown.may_raise && !IsolationUsesXactSnapshot() &&
	                 !TransactionIdIsValid(GetTopTransactionIdIfAny());
}

void
FinishClaim(const ClaimBegin *begun, Datum queue_name, int32 queue_id, const core::ClaimKey &first_visible) {
	if (table == nullptr)
		return;
	if (queue_id != begun->queue_id) {
		RememberQueueId(queue_name, queue_id);
		return;
	}
	if (!begun->may_raise)
		return;
	SpinLockAcquire(&table->lock);
	if (table->unknown.writes == begun->unknown.writes)
		core::FinishClaim(table->slots[begun->slot].hint, begun->queue, first_visible);
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
	bool at_start = !dlq::core::KeyBefore(dlq::core::kLowestClaimKey, hint.start);
	Datum values[5] = {Int32GetDatum(hint.start.priority), TimestampTzGetDatum(hint.start.run_at),
	                   Int64GetDatum(hint.start.id), Int64GetDatum(static_cast<int64>(hint.writes)),
	                   Int32GetDatum(hint.open_writers + unknown.open_writers)};
	bool nulls[5] = {at_start, at_start, at_start, false, false};
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum)0;
}

} // extern "C"
