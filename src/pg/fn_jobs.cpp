// SQL entry points of the producer and worker API: dlq.enqueue, enqueue_many, claim, heartbeat,
// complete, complete_many and fail. C-style by design (see guard.hpp): arguments are read into plain
// values, the core validates them through CallCore, and the job store runs the statements.
#include <string_view>

#include "core/error_history.hpp"
#include "core/job_batch.hpp"
#include "core/validation.hpp"
#include "pg/args.hpp"
#include "pg/guard.hpp"
#include "pg/job_store.hpp"
#include "pg/spi_util.hpp"

using dlq::pg::CallCore;
using dlq::pg::RefuseReadOnly;
using dlq::pg::RequireArg;
using dlq::pg::TextArg;
namespace core = dlq::core;
namespace store = dlq::pg::store;

// Validates an optional name argument (tenant, actor, dedup_key) when it is not NULL.
static void
ValidateOptionalName(FunctionCallInfo fcinfo, int argno, const char *field) {
	if (PG_ARGISNULL(argno))
		return;
	std::string_view value = TextArg(fcinfo, argno);
	CallCore([&] { core::ValidateName(field, value); });
}

static void
ValidateLeaseArg(FunctionCallInfo fcinfo, int argno) {
	if (PG_ARGISNULL(argno))
		return;
	int64 lease_us = dlq::pg::SettingArgMicros(fcinfo, argno);
	CallCore([&] { core::ValidatePositiveDuration("lease", lease_us); });
}

static void
ConnectSpi() {
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dlq: SPI_connect failed");
}

extern "C" {

PG_FUNCTION_INFO_V1(dlq_enqueue);
Datum
dlq_enqueue(PG_FUNCTION_ARGS) {
	RequireArg(fcinfo, 0, "queue");
	RequireArg(fcinfo, 1, "kind");
	std::string_view queue = TextArg(fcinfo, 0);
	std::string_view kind = TextArg(fcinfo, 1);
	CallCore([&] {
		core::ValidateName("queue", queue);
		core::ValidateName("kind", kind);
	});
	if (!PG_ARGISNULL(5)) {
		int32 max_attempts = PG_GETARG_INT32(5);
		CallCore([&] { core::ValidateMaxAttempts("max_attempts", max_attempts); });
	}
	ValidateOptionalName(fcinfo, 6, "tenant");
	ValidateOptionalName(fcinfo, 7, "actor");
	ValidateOptionalName(fcinfo, 8, "dedup_key");
	// enqueue_many takes ISO-8601 times only, so neither infinity: -infinity would break the waiting
	// times of dlq.queue_stats, and a job due at infinity would never run.
	if (!PG_ARGISNULL(3) && TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(3)))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("run_at must be a finite time"),
		                errhint("Leave it out to run the job now.")));

	Datum values[store::kNewJobParams];
	char nulls[store::kNewJobParams + 1];
	for (int i = 0; i < store::kNewJobParams; i++) {
		values[i] = PG_ARGISNULL(i) ? (Datum)0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	nulls[store::kNewJobParams] = '\0';

	RefuseReadOnly("dlq.enqueue()");
	int64 id = 0;
	store::DirectInsert direct = store::InsertJobDirectly(values, nulls, &id);
	if (direct == store::DirectInsert::kNotDirect) {
		ConnectSpi();
		id = store::InsertJob(values, nulls);
		SPI_finish();
	}
	if (id == 0)
		dlq::pg::RaiseUnknownQueue(queue);
	PG_RETURN_INT64(id);
}

PG_FUNCTION_INFO_V1(dlq_enqueue_many);
Datum
dlq_enqueue_many(PG_FUNCTION_ARGS) {
	RequireArg(fcinfo, 0, "queue");
	RequireArg(fcinfo, 1, "jobs");
	std::string_view queue = TextArg(fcinfo, 0);
	Jsonb *jobs = PG_GETARG_JSONB_P(1);
	std::string_view jobs_text = dlq::pg::ServerToUtf8(JsonbToCString(nullptr, &jobs->root, VARSIZE(jobs)));
	core::JobBatchSummary summary;
	CallCore([&] {
		core::ValidateName("queue", queue);
		summary = core::ValidateJobBatch(jobs_text);
	});

	RefuseReadOnly("dlq.enqueue_many()");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	if (!summary.has_dedup_keys) {
		int count = static_cast<int>(summary.count);
		int64 *ids = static_cast<int64 *>(palloc(sizeof(int64) * count));
		switch (store::InsertJobBatchDirectly(PG_GETARG_DATUM(0), jobs, count, ids)) {
		case store::DirectInsert::kUnknownQueue:
			dlq::pg::RaiseUnknownQueue(queue);
		case store::DirectInsert::kInserted:
			for (int i = 0; i < count; i++) {
				Datum id = Int64GetDatum(ids[i]);
				bool isnull = false;
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &isnull);
			}
			return (Datum)0;
		case store::DirectInsert::kNotDirect:
			break;
		}
	}

	ConnectSpi();
	store::QueueInfo queue_info;
	if (!store::FindQueue(PG_GETARG_DATUM(0), &queue_info))
		dlq::pg::RaiseUnknownQueue(queue);
	store::InsertJobBatch(&queue_info, JsonbPGetDatum(jobs), summary.has_dedup_keys);

	// Rows are (ord, id); the function returns the ids in element order.
	for (uint64 row = 0; row < SPI_processed; row++) {
		bool isnull;
		Datum id = Int64GetDatum(dlq::pg::SpiInt64(row, 2, &isnull));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &isnull);
	}
	SPI_finish();
	return (Datum)0;
}

PG_FUNCTION_INFO_V1(dlq_claim);
Datum
dlq_claim(PG_FUNCTION_ARGS) {
	RequireArg(fcinfo, 0, "queue");
	RequireArg(fcinfo, 1, "worker");
	RequireArg(fcinfo, 2, "batch");
	std::string_view queue = TextArg(fcinfo, 0);
	std::string_view worker = TextArg(fcinfo, 1);
	int32 batch = PG_GETARG_INT32(2);
	CallCore([&] {
		core::ValidateName("queue", queue);
		core::ValidateName("worker", worker);
		core::ValidateBatch("batch", batch);
	});
	ValidateLeaseArg(fcinfo, 3);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	bool queue_exists;
	store::ClaimJobs(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), batch, PG_ARGISNULL(3) ? (Datum)0 : PG_GETARG_DATUM(3),
	                 PG_ARGISNULL(3), rsinfo->setResult, rsinfo->setDesc, &queue_exists);
	if (!queue_exists)
		dlq::pg::RaiseUnknownQueue(queue);
	return (Datum)0;
}

PG_FUNCTION_INFO_V1(dlq_heartbeat);
Datum
dlq_heartbeat(PG_FUNCTION_ARGS) {
	RefuseReadOnly("dlq.heartbeat()");
	RequireArg(fcinfo, 0, "job_id");
	RequireArg(fcinfo, 1, "worker");
	ValidateLeaseArg(fcinfo, 2);
	ConnectSpi();
	bool held = store::ExtendLease(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1),
	                               PG_ARGISNULL(2) ? (Datum)0 : PG_GETARG_DATUM(2), PG_ARGISNULL(2));
	SPI_finish();
	PG_RETURN_BOOL(held);
}

PG_FUNCTION_INFO_V1(dlq_complete);
Datum
dlq_complete(PG_FUNCTION_ARGS) {
	RefuseReadOnly("dlq.complete()");
	RequireArg(fcinfo, 0, "job_id");
	RequireArg(fcinfo, 1, "worker");
	ConnectSpi();
	bool done = store::CompleteJob(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1));
	SPI_finish();
	PG_RETURN_BOOL(done);
}

PG_FUNCTION_INFO_V1(dlq_complete_many);
Datum
dlq_complete_many(PG_FUNCTION_ARGS) {
	RefuseReadOnly("dlq.complete_many()");
	RequireArg(fcinfo, 0, "job_ids");
	RequireArg(fcinfo, 1, "worker");
	ConnectSpi();
	uint64 done = store::CompleteJobs(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1));
	SPI_finish();
	PG_RETURN_INT32(static_cast<int32>(done));
}

// The error of argument `arg`, cut as the error history cuts each entry's (core::TruncateMessage), so that
// last_error, the dead letter's last_error and its fingerprint hold what the history holds, not an
// unbounded text.
static Datum
BoundedErrorArg(FunctionCallInfo fcinfo, int arg) {
	// Measured in UTF-8, as the history measures it.
	std::string_view utf8 = dlq::pg::ServerToUtf8(TextArg(fcinfo, arg));
	if (utf8.size() <= core::kMaxErrorBytes)
		return PG_GETARG_DATUM(arg);
	char *cut = nullptr;
	CallCore([&] { cut = dlq::pg::PallocCopyNoError(core::TruncateMessage(utf8)); });
	return CStringGetTextDatum(dlq::pg::Utf8ToServer(cut));
}

PG_FUNCTION_INFO_V1(dlq_fail);
Datum
dlq_fail(PG_FUNCTION_ARGS) {
	RefuseReadOnly("dlq.fail()");
	RequireArg(fcinfo, 0, "job_id");
	RequireArg(fcinfo, 1, "worker");
	RequireArg(fcinfo, 2, "error");
	RequireArg(fcinfo, 4, "retryable");
	bool retryable = PG_GETARG_BOOL(4);
	if (!PG_ARGISNULL(5)) {
		int64 retry_in_us = dlq::pg::IntervalArgMicros(fcinfo, 5, 0);
		CallCore([&] { core::ValidateNonNegativeDuration("retry_in", retry_in_us); });
	}
	Datum details = PG_ARGISNULL(3) ? (Datum)0 : PG_GETARG_DATUM(3);
	Datum error = BoundedErrorArg(fcinfo, 2);
	double unit_random = pg_prng_double(&pg_global_prng_state);

	// A retry first, as most failures have attempts left; a job the retry does not take is dead-lettered
	// if the lease is still this worker's, and its lease was lost otherwise. Each statement checks the
	// lease on the row it changes.
	ConnectSpi();
	const char *outcome = "lease_lost";
	if (retryable && store::RetryJob(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), error, details,
	                                 PG_ARGISNULL(3), unit_random, PG_ARGISNULL(5) ? (Datum)0 : PG_GETARG_DATUM(5),
	                                 PG_ARGISNULL(5))) {
		outcome = "retrying";
	} else {
		store::DeadLetterMove move = {};
		move.job_ids = dlq::pg::Int64ArrayOfOne(PG_GETARG_INT64(0));
		move.reason = retryable ? "RETRIES_EXHAUSTED" : "PERMANENT_FAILURE";
		move.detected_by = "inline";
		move.error = error;
		move.details = details;
		move.details_is_null = PG_ARGISNULL(3);
		move.metadata_is_null = true;
		move.notes_is_null = true;
		move.guard_lease = true;
		move.lease_worker = PG_GETARG_DATUM(1);
		move.only_exhausted = retryable;
		if (store::MoveToDeadLetters(&move) == 1)
			outcome = "dead_lettered";
	}
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

} // extern "C"
