// Background sweepers. A launcher, registered when dlq is in shared_preload_libraries, starts one
// dynamic worker per database named in dlq.databases; each worker runs dlq.sweep() in bounded
// transactions every dlq.sweep_interval. Written C-style on purpose: no C++ object lives in these
// frames, because ereport() may longjmp through them (see guard.hpp).
#include "core/horizon_watch.hpp"
#include "pg/guc.hpp"
#include "pg/job_store.hpp"
#include "pg/pg_includes.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "nodes/value.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

PGDLLEXPORT void dlq_launcher_main(Datum main_arg);
PGDLLEXPORT void dlq_sweeper_main(Datum main_arg);
}

namespace dlq::pg {

// Databases one launcher serves at most (dlq.databases refuses more).
static constexpr int kMaxDatabases = kMaxSweptDatabases;
// How often the launcher checks its workers when nothing wakes it.
static constexpr long kLauncherTickMs = 1000;
// Backoff before restarting a worker that stopped (missing database, crash): doubles up to the cap.
static constexpr long kRestartBackoffMinMs = 1000;
static constexpr long kRestartBackoffMaxMs = 300000;
// A worker that ran at least this long before stopping starts again without backoff.
static constexpr long kHealthyRunMs = 60000;
// Transactions one pass may run before it yields to the next interval.
static constexpr int kMaxBatchesPerPass = 100000;
// dlq.job's own autovacuum threshold: fewer dead rows than this are not worth a vacuum, nor a warning.
static constexpr int64 kDeadRowsWorthAWarning = 1000;
// Pause after a compaction of dlq.job that did not happen: each try may make the workers wait for the lock.
static constexpr int64 kCompactRetryAfterUs = 60 * USECS_PER_SEC;

void
RegisterLauncher() {
	BackgroundWorker worker;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	strlcpy(worker.bgw_library_name, "dlq", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "dlq_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "dlq launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "dlq launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

// ---- launcher ---------------------------------------------------------------------------------------

struct SweeperSlot {
	bool in_use;
	char database[NAMEDATALEN];
	BackgroundWorkerHandle *handle; // palloc'd in TopMemoryContext, or null when not running
	TimestampTz started_at;
	TimestampTz retry_at;
	int failures;
};

static SweeperSlot slots[kMaxDatabases];

static SweeperSlot *
FindSlot(const char *database) {
	for (int i = 0; i < kMaxDatabases; i++)
		if (slots[i].in_use && strcmp(slots[i].database, database) == 0)
			return &slots[i];
	return nullptr;
}

static SweeperSlot *
NewSlot(const char *database) {
	for (int i = 0; i < kMaxDatabases; i++) {
		if (!slots[i].in_use) {
			memset(&slots[i], 0, sizeof(SweeperSlot));
			slots[i].in_use = true;
			strlcpy(slots[i].database, database, NAMEDATALEN);
			return &slots[i];
		}
	}
	ereport(WARNING, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
	                  errmsg("dlq.databases names more than %d databases; \"%s\" is not served", kMaxDatabases,
	                         database)));
	return nullptr;
}

static void
StopSlot(SweeperSlot *slot) {
	if (slot->handle != nullptr) {
		TerminateBackgroundWorker(slot->handle);
		pfree(slot->handle);
		slot->handle = nullptr;
	}
}

static void
StartSlot(SweeperSlot *slot, TimestampTz now) {
	BackgroundWorker worker;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	worker.bgw_notify_pid = MyProcPid;
	strlcpy(worker.bgw_library_name, "dlq", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "dlq_sweeper_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "dlq sweeper for %s", slot->database);
	strlcpy(worker.bgw_type, "dlq sweeper", BGW_MAXLEN);
	// The database name travels by value: a pointer means nothing in another process.
	strlcpy(worker.bgw_extra, slot->database, BGW_EXTRALEN);

	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	bool registered = RegisterDynamicBackgroundWorker(&worker, &slot->handle);
	MemoryContextSwitchTo(old);
	if (!registered) {
		slot->handle = nullptr;
		slot->retry_at = TimestampTzPlusMilliseconds(now, 10000);
		ereport(WARNING, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
		                  errmsg("out of background worker slots for the dlq sweeper of \"%s\"", slot->database),
		                  errhint("You might need to increase max_worker_processes.")));
		return;
	}
	slot->started_at = now;
}

// Notices a worker that stopped and schedules its restart with backoff.
static void
CheckSlot(SweeperSlot *slot, TimestampTz now) {
	if (slot->handle == nullptr)
		return;
	pid_t pid;
	if (GetBackgroundWorkerPid(slot->handle, &pid) != BGWH_STOPPED)
		return;
	pfree(slot->handle);
	slot->handle = nullptr;
	bool healthy = TimestampDifferenceExceeds(slot->started_at, now, kHealthyRunMs);
	slot->failures = healthy ? 0 : slot->failures + 1;
	long backoff = kRestartBackoffMinMs;
	for (int i = 1; i < slot->failures && backoff < kRestartBackoffMaxMs; i++)
		backoff *= 2;
	slot->retry_at = TimestampTzPlusMilliseconds(now, healthy ? 0 : Min(backoff, kRestartBackoffMaxMs));
}

// Brings the running workers in line with dlq.enabled and dlq.databases.
static void
ReconcileSweepers() {
	List *wanted = NIL;
	char *names = pstrdup(guc_databases ? guc_databases : "");
	if (!SplitIdentifierString(names, ',', &wanted)) {
		ereport(WARNING, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                  errmsg("invalid list syntax in dlq.databases: \"%s\"", guc_databases)));
		wanted = NIL;
	}
	if (!guc_enabled)
		wanted = NIL;

	for (int i = 0; i < kMaxDatabases; i++) {
		if (!slots[i].in_use)
			continue;
		bool keep = false;
		ListCell *cell;
		foreach (cell, wanted)
			keep = keep || strcmp(static_cast<char *>(lfirst(cell)), slots[i].database) == 0;
		if (!keep) {
			StopSlot(&slots[i]);
			slots[i].in_use = false;
		}
	}

	TimestampTz now = GetCurrentTimestamp();
	ListCell *cell;
	foreach (cell, wanted) {
		const char *database = static_cast<char *>(lfirst(cell));
		SweeperSlot *slot = FindSlot(database);
		if (slot == nullptr && (slot = NewSlot(database)) == nullptr)
			continue;
		CheckSlot(slot, now);
		if (slot->handle == nullptr && now >= slot->retry_at)
			StartSlot(slot, now);
	}
	list_free(wanted);
	pfree(names);
}

// Sweepers started by an earlier launcher that exited (an error, a kill; the postmaster restarts the
// launcher) keep running, and no launcher manages them: this one would start a second sweeper per
// database, and could not stop the first ones when dlq.databases changes. It stops them first.
static void
StopOrphanedSweepers() {
	pid_t *pids = static_cast<pid_t *>(palloc(sizeof(pid_t) * ProcGlobal->allProcCount));
	int candidates = 0;
	LWLockAcquire(ProcArrayLock, LW_SHARED);
	for (uint32 i = 0; i < ProcGlobal->allProcCount; i++) {
		PGPROC *proc = GetPGProcByNumber(i);
		if (proc->pid != 0 && proc->pid != MyProcPid && proc->isBackgroundWorker)
			pids[candidates++] = proc->pid;
	}
	LWLockRelease(ProcArrayLock);
	int stopped = 0;
	for (int i = 0; i < candidates; i++) {
		const char *type = GetBackgroundWorkerTypeByPid(pids[i]);
		if (type != nullptr && strcmp(type, "dlq sweeper") == 0 && kill(pids[i], SIGTERM) == 0)
			stopped++;
	}
	pfree(pids);
	if (stopped > 0)
		ereport(LOG, (errmsg("dlq launcher: stopped %d sweeper(s) left by a previous launcher", stopped),
		              errdetail("This launcher starts its own, one per database of dlq.databases.")));
}

void
LauncherMain() {
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	ereport(LOG, (errmsg("dlq launcher started")));
	StopOrphanedSweepers();
	MemoryContext loop_cxt = AllocSetContextCreate(TopMemoryContext, "dlq launcher", ALLOCSET_DEFAULT_SIZES);
	for (;;) {
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending) {
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContext old = MemoryContextSwitchTo(loop_cxt);
		ReconcileSweepers();
		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_cxt);
		// Woken by SIGHUP and by the postmaster when one of our workers starts or stops.
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kLauncherTickMs, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

// ---- per-database sweeper ---------------------------------------------------------------------------

// The extension is usable in this database: installed, and not being created by the current
// transaction (another backend's CREATE EXTENSION is invisible to us until it commits).
static bool
ExtensionReady() {
	Oid extension = get_extension_oid("dlq", true);
	return OidIsValid(extension) && !(creating_extension && CurrentExtensionObject == extension);
}

struct PassTotals {
	int64 rescued;
	int64 stuck;
	int64 unrecovered;
};

// After an error in the worker's loop: logs it and rolls back, and the worker goes on.
static void
LogAndAbort(MemoryContext loop_cxt) {
	HOLD_INTERRUPTS();
	EmitErrorReport();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(loop_cxt);
	FlushErrorState();
	RESUME_INTERRUPTS();
}

// Each unit of the sweeper's work is a transaction of its own with SPI connected and a snapshot pushed.
// BeginWork returns whether there is anything to do in it: not during recovery (a standby), nor in a
// database without the extension.
static bool
BeginWork() {
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dlq sweeper: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	return !RecoveryInProgress() && ExtensionReady();
}

static void
EndWork() {
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

// Runs one transaction of dlq.sweep(); returns true when a full batch was handled (more may wait).
static bool
SweepOneBatch(PassTotals *totals) {
	bool full = false;
	bool ready = BeginWork();
	pgstat_report_activity(STATE_RUNNING, "SELECT outcome, count FROM dlq.sweep(batch => $1)");
	if (ready) {
		Oid type = INT4OID;
		Datum batch = Int32GetDatum(guc_sweep_batch);
		int rc = SPI_execute_with_args("SELECT outcome, count FROM dlq.sweep(batch => $1)", 1, &type, &batch,
		                               nullptr, false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "dlq sweeper: sweep failed: %s", SPI_result_code_string(rc));
		for (uint64 row = 0; row < SPI_processed; row++) {
			bool isnull;
			char *outcome = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1);
			int64 count = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 2, &isnull));
			if (strcmp(outcome, "rescued") == 0)
				totals->rescued += count;
			else if (strcmp(outcome, "STUCK_IN_PROGRESS") == 0)
				totals->stuck += count;
			else
				totals->unrecovered += count;
			full = full || count >= guc_sweep_batch;
		}
	}
	EndWork();
	pgstat_report_stat(false);
	return full;
}

// The dead letters' housekeeping (partitions ahead, retention) in a transaction of its own, committed
// before the pass: creating or dropping a partition holds an ACCESS EXCLUSIVE lock on dlq.dead_letter
// until its transaction ends, and in the first batch's transaction every fail() and every read of the dead
// letters would wait for the whole batch. (The pass's dlq.sweep() calls leave it out:
// store::sweep_does_housekeeping is false in this process.)
static void
MaintainDeadLetters() {
	if (BeginWork()) {
		pgstat_report_activity(STATE_RUNNING, "SELECT dlq._maintain_dead_letters()");
		store::MaintainDeadLetters();
	}
	EndWork();
}

// One sweep pass: batches until the backlog is cleared. An error ends the pass (it is logged and the
// transaction rolled back) but not the worker: the next interval tries again.
static void
RunPass(MemoryContext loop_cxt, const char *database) {
	PassTotals totals = {0, 0, 0};
	PassTotals *volatile totals_ptr = &totals;
	MemoryContext old = MemoryContextSwitchTo(loop_cxt);
	PG_TRY();
	{
		MaintainDeadLetters();
		MemoryContextSwitchTo(loop_cxt);
		for (int batch = 0; batch < kMaxBatchesPerPass; batch++) {
			bool more = SweepOneBatch(totals_ptr);
			MemoryContextSwitchTo(loop_cxt);
			CHECK_FOR_INTERRUPTS();
			if (!more)
				break;
		}
	}
	PG_CATCH();
	{
		LogAndAbort(loop_cxt);
	}
	PG_END_TRY();
	if (totals_ptr->rescued + totals_ptr->stuck + totals_ptr->unrecovered > 0)
		ereport(LOG, (errmsg("dlq sweeper: database \"%s\": rescued %lld, dead-lettered %lld STUCK_IN_PROGRESS and "
		                     "%lld UNRECOVERED_ERROR",
		                     database, (long long)totals_ptr->rescued, (long long)totals_ptr->stuck,
		                     (long long)totals_ptr->unrecovered)));
	pgstat_report_activity(STATE_IDLE, nullptr);
	MemoryContextSwitchTo(old);
	MemoryContextReset(loop_cxt);
}

// Reads the oldest transaction horizon of the database (dlq.vacuum_blockers) and warns when it has
// stayed put past dlq.vacuum_horizon_warning while dlq.job collects dead rows (core/horizon_watch.hpp);
// compacts dlq.job once dlq.compact_dead_rows of them are out of vacuum's reach. Its own transaction; an
// error is logged and the check tried again next pass.
static core::HorizonWatch horizon_watch;

// Missing from a database whose extension was created by an older dlq than the library loaded: the
// check then skips that database quietly.
static bool
DlqFunctionExists(const char *name) {
	List *qualified = list_make2(makeString(pstrdup("dlq")), makeString(pstrdup(name)));
	// Any argument list; never an error, not even for an overloaded name (LookupFuncName with nargs -1
	// would raise one, and asserts argument types).
	return FuncnameGetCandidates(qualified, -1, NIL, false, false, false, true) != nullptr;
}

static void
FormatHeld(int64 held_us, char *out, size_t size) {
	int64 held_s = held_us / USECS_PER_SEC;
	if (held_s < 2 * SECS_PER_MINUTE)
		snprintf(out, size, "%lld s", static_cast<long long>(held_s));
	else if (held_s < 2 * SECS_PER_HOUR)
		snprintf(out, size, "%lld min", static_cast<long long>(held_s / SECS_PER_MINUTE));
	else
		snprintf(out, size, "%lld h", static_cast<long long>(held_s / SECS_PER_HOUR));
}

// The outcomes of dlq._compact_jobs other than 'compacted': when the sweeper tries again, and why, for
// the log. Each is logged once per horizon (and again after a compaction that did happen): the tries
// repeat while the cause usually lasts.
struct SkipOutcome {
	const char *name;
	core::CompactionResult result;
	const char *why;
};
static const SkipOutcome kSkipOutcomes[] = {
    {"busy", core::CompactionResult::kRefused, "a transaction has held a lock on dlq.job for a while"},
    {"lock_timeout", core::CompactionResult::kGaveUp, "the lock on dlq.job was not granted in time"},
    {"too_many_live_rows", core::CompactionResult::kGaveUp,
     "it holds more live jobs than dlq.compact_max_live_rows (or more than 64 MB of them)"},
    {"not_plain", core::CompactionResult::kRefused,
     "a user trigger, rule, publication, foreign key or inheritance is on dlq.job"},
};
static uint32 compaction_skips_logged = 0;     // a bit per kSkipOutcomes entry
static int64 compaction_skips_logged_for = -1; // first_seen_us of the horizon they were logged for

// What one compaction did, copied out of SPI's memory: it is logged after the commit, once it has
// happened for good.
struct CompactionReport {
	core::CompactionResult result;
	int skip; // index in kSkipOutcomes; -1 when compacted
	char live_rows[32];
	char dead_rows[32];
	char before[32];
	char after[32];
	char locked_ms[32];
	int64 held_us;
};

static void
CopyValue(char *out, size_t size, HeapTuple row, TupleDesc desc, int column) {
	char *value = SPI_getvalue(row, desc, column);
	strlcpy(out, value != nullptr ? value : "?", size);
}

// Compacts dlq.job (460_compaction.sql, job_compact.cpp) in the check's transaction, which the caller
// commits at once, releasing the lock.
static void
CompactJobs(int64 held_us, CompactionReport *report) {
	Oid type = INT4OID;
	Datum max_live_rows = Int32GetDatum(guc_compact_max_live_rows);
	int rc = SPI_execute_with_args("SELECT outcome, live_rows, dead_rows, pg_catalog.pg_size_pretty(bytes_before), "
	                               "       pg_catalog.pg_size_pretty(bytes_after), round(locked_ms)::bigint "
	                               "  FROM dlq._compact_jobs(max_live_rows => $1)",
	                               1, &type, &max_live_rows, nullptr, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "dlq sweeper: compacting dlq.job failed: %s", SPI_result_code_string(rc));
	HeapTuple row = SPI_tuptable->vals[0];
	TupleDesc desc = SPI_tuptable->tupdesc;
	char outcome[32];
	CopyValue(outcome, sizeof(outcome), row, desc, 1);
	CopyValue(report->live_rows, sizeof(report->live_rows), row, desc, 2);
	CopyValue(report->dead_rows, sizeof(report->dead_rows), row, desc, 3);
	CopyValue(report->before, sizeof(report->before), row, desc, 4);
	CopyValue(report->after, sizeof(report->after), row, desc, 5);
	CopyValue(report->locked_ms, sizeof(report->locked_ms), row, desc, 6);
	report->held_us = held_us;
	report->result = core::CompactionResult::kCompacted;
	report->skip = -1;
	if (strcmp(outcome, "compacted") == 0)
		return;
	for (int i = 0; i < static_cast<int>(lengthof(kSkipOutcomes)); i++)
		if (strcmp(outcome, kSkipOutcomes[i].name) == 0) {
			report->result = kSkipOutcomes[i].result;
			report->skip = i;
			return;
		}
	elog(ERROR, "dlq sweeper: dlq._compact_jobs returned an unknown outcome \"%s\"", outcome);
}

static void
LogCompaction(const char *database, const CompactionReport &report) {
	char held[32];
	FormatHeld(report.held_us, held, sizeof(held));
	if (report.skip < 0) {
		ereport(LOG, (errmsg("dlq sweeper: compacted dlq.job in database \"%s\": %s live jobs copied, %s dead row "
		                     "versions dropped, %s before and %s after, lock held %s ms",
		                     database, report.live_rows, report.dead_rows, report.before, report.after,
		                     report.locked_ms),
		              errdetail("The oldest transaction horizon has not moved for %s, so vacuum could not remove them.",
		                        held)));
		compaction_skips_logged = 0;
		return;
	}
	if (compaction_skips_logged_for != horizon_watch.first_seen_us) {
		compaction_skips_logged = 0;
		compaction_skips_logged_for = horizon_watch.first_seen_us;
	}
	uint32 bit = 1u << report.skip;
	if ((compaction_skips_logged & bit) != 0)
		return;
	const SkipOutcome &skip = kSkipOutcomes[report.skip];
	char again[48];
	if (skip.result == core::CompactionResult::kGaveUp)
		snprintf(again, sizeof(again), "in %d s", static_cast<int>(kCompactRetryAfterUs / USECS_PER_SEC));
	else
		strlcpy(again, "next pass", sizeof(again));
	ereport(LOG, (errmsg("dlq sweeper: did not compact dlq.job in database \"%s\": %s (%s)", database, skip.why,
	                     skip.name),
	              errdetail("The oldest transaction horizon has not moved for %s. The sweeper tries again %s.", held,
	                        again)));
	compaction_skips_logged |= bit;
}

static void
CheckVacuumHorizon(MemoryContext loop_cxt, const char *database) {
	if (guc_vacuum_horizon_warning_s <= 0 && guc_compact_dead_rows <= 0) {
		horizon_watch = core::HorizonWatch{}; // turned on again later, it starts afresh
		return;
	}
	const core::CompactionPolicy compaction = {guc_compact_dead_rows, kCompactRetryAfterUs};
	static CompactionReport report; // static: set in PG_TRY, read after it
	volatile bool compaction_tried = false;
	volatile bool committed = false;
	MemoryContext old = MemoryContextSwitchTo(loop_cxt);
	PG_TRY();
	{
		if (BeginWork() && DlqFunctionExists("_oldest_vacuum_blocker")) {
			int rc = SPI_execute("SELECT horizon, holder, hint, dead_rows, job_table_size "
			                     "  FROM dlq._oldest_vacuum_blocker()",
			                     false, 1);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "dlq sweeper: reading the vacuum horizon failed: %s", SPI_result_code_string(rc));
			core::HorizonObservation seen = {SPI_processed == 1, 0, GetCurrentTimestamp(), -1};
			bool isnull = true;
			if (seen.has_horizon) {
				Datum horizon = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
				seen.has_horizon = !isnull;
				if (!isnull)
					seen.horizon = static_cast<uint32>(strtoul(TextDatumGetCString(horizon), nullptr, 10));
				Datum dead = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull);
				if (!isnull)
					seen.dead_rows = DatumGetInt64(dead);
			}
			core::HorizonPolicy policy = {static_cast<int64>(guc_vacuum_horizon_warning_s) * USECS_PER_SEC,
			                              kDeadRowsWorthAWarning};
			int64 held_us = 0;
			int64 added_dead_rows = 0;
			if (core::ObserveHorizon(horizon_watch, seen, policy, &held_us, &added_dead_rows)) {
				char held[32];
				FormatHeld(held_us, held, sizeof(held));
				char compactions[160] = "";
				if (horizon_watch.compactions > 0)
					snprintf(compactions, sizeof(compactions),
					         " Compactions of dlq.job meanwhile: %lld (dlq.compact_dead_rows).",
					         static_cast<long long>(horizon_watch.compactions));
				ereport(WARNING,
				        (errmsg("dlq sweeper: vacuum cannot remove the rows of finished jobs in database \"%s\": "
				                "the oldest transaction horizon has not moved for %s",
				                database, held),
				         errdetail("It is held by %s. dlq.job has %lld dead row versions, %lld of them added since, "
				                   "%s in all.%s",
				                   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2),
				                   static_cast<long long>(seen.dead_rows), static_cast<long long>(added_dead_rows),
				                   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5), compactions),
				         errhint("%s See SELECT * FROM dlq.vacuum_blockers.",
				                 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3))));
			}
			if (core::CompactionDue(horizon_watch, seen.now_us, held_us, added_dead_rows, compaction) &&
			    DlqFunctionExists("_compact_jobs")) {
				compaction_tried = true;
				CompactJobs(held_us, &report);
			}
		}
		EndWork();
		committed = true;
	}
	PG_CATCH();
	{
		LogAndAbort(loop_cxt);
	}
	PG_END_TRY();
	if (compaction_tried) {
		if (committed) {
			LogCompaction(database, report);
			core::NoteCompaction(horizon_watch, report.result, GetCurrentTimestamp(), compaction);
			// The truncation reset dlq.job's statistics: published now, the next check counts from there.
			if (report.result == core::CompactionResult::kCompacted)
				pgstat_report_stat(true);
		} else {
			// The error is logged; a compaction that failed (a deadlock, an error in the copy) waits like one
			// that gave up, so it does not repeat every pass.
			core::NoteCompaction(horizon_watch, core::CompactionResult::kGaveUp, GetCurrentTimestamp(), compaction);
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(loop_cxt);
}

void
SweeperMain() {
	char database[NAMEDATALEN];
	strlcpy(database, MyBgworkerEntry->bgw_extra, NAMEDATALEN);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(database, nullptr, 0);
	pgstat_report_appname("dlq sweeper");
	// Row locks with SKIP LOCKED need READ COMMITTED: under a stricter server default a heartbeat or a
	// completion racing the sweep would make the pass fail with a serialization error.
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	// A database made read-only by default (ALTER DATABASE ... SET default_transaction_read_only) keeps its
	// applications from writing; the sweeper's passes, like autovacuum, still run (every one failed).
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	store::sweep_does_housekeeping = false; // once per pass, in MaintainDeadLetters
	ereport(LOG, (errmsg("dlq sweeper started for database \"%s\"", database)));

	MemoryContext loop_cxt = AllocSetContextCreate(TopMemoryContext, "dlq sweeper", ALLOCSET_DEFAULT_SIZES);
	// Sweep at once: recover what a crash or restart left behind.
	TimestampTz last_run = 0;
	TimestampTz next_run = GetCurrentTimestamp();
	for (;;) {
		// A cancel (pg_cancel_backend) that comes between passes has nothing to cancel: raised here,
		// outside a pass's error handling, it ended the worker. (A pass catches one: its ERROR is logged.)
		QueryCancelPending = false;
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending) {
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (last_run != 0)
				next_run = TimestampTzPlusMilliseconds(last_run, guc_sweep_interval_ms);
		}
		if (!guc_enabled)
			proc_exit(0);
		if (GetCurrentTimestamp() >= next_run) {
			RunPass(loop_cxt, database);
			CheckVacuumHorizon(loop_cxt, database);
			last_run = GetCurrentTimestamp();
			next_run = TimestampTzPlusMilliseconds(last_run, guc_sweep_interval_ms);
		}
		long wait_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next_run);
		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(wait_ms, 1L), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

} // namespace dlq::pg

extern "C" {

void
dlq_launcher_main(Datum) {
	dlq::pg::LauncherMain();
}

void
dlq_sweeper_main(Datum) {
	dlq::pg::SweeperMain();
}

} // extern "C"
