// SQL entry points of sweep detection: dlq.sweep(), the server-wide queue defaults, and the rewrite
// behind the compaction of dlq.job.
#include <string_view>

#include "core/validation.hpp"
#include "pg/args.hpp"
#include "pg/guard.hpp"
#include "pg/guc.hpp"
#include "pg/job_store.hpp"
#include "pg/spi_util.hpp"

namespace store = dlq::pg::store;

// Same bound as dlq.sweep_batch.
static constexpr int32 kMaxSweepBatch = 100000;

static void
PutOutcome(ReturnSetInfo *rsinfo, const char *outcome, int64 count) {
	Datum values[2] = {CStringGetTextDatum(outcome), Int64GetDatum(count)};
	bool nulls[2] = {false, false};
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

extern "C" {
PG_FUNCTION_INFO_V1(dlq_sweep);
Datum
dlq_sweep(PG_FUNCTION_ARGS) {
	dlq::pg::RefuseReadOnly("dlq.sweep()");
	int32 batch = PG_ARGISNULL(1) ? dlq::pg::guc_sweep_batch : PG_GETARG_INT32(1);
	if (batch < 1 || batch > kMaxSweepBatch)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("batch must be between 1 and %d", kMaxSweepBatch),
		                errdetail("The value was %d.", batch)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dlq: SPI_connect failed");
	int32 queue_id = 0;
	if (!PG_ARGISNULL(0)) {
		std::string_view name = dlq::pg::TextArg(fcinfo, 0);
		dlq::pg::CallCore([&] { dlq::core::ValidateName("queue", name); });
		store::QueueInfo queue;
		if (!store::FindQueue(PG_GETARG_DATUM(0), &queue))
			dlq::pg::RaiseUnknownQueue(dlq::pg::TextArg(fcinfo, 0));
		queue_id = queue.id;
	}
	store::SweepCounts counts;
	store::Sweep(queue_id, batch, &counts);
	SPI_finish();

	InitMaterializedSRF(fcinfo, 0);
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	PutOutcome(rsinfo, "rescued", counts.rescued);
	PutOutcome(rsinfo, "STUCK_IN_PROGRESS", counts.stuck);
	PutOutcome(rsinfo, "UNRECOVERED_ERROR", counts.unrecovered);
	return (Datum)0;
}

// The server-wide defaults (dlq.default_*) that create_queue applies to settings it is not given.
PG_FUNCTION_INFO_V1(dlq_queue_defaults);
Datum
dlq_queue_defaults(PG_FUNCTION_ARGS) {
	InitMaterializedSRF(fcinfo, 0);
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	Interval *lease = static_cast<Interval *>(palloc0(sizeof(Interval)));
	lease->time = static_cast<int64>(dlq::pg::guc_default_lease_s) * USECS_PER_SEC;
	Interval *window = static_cast<Interval *>(palloc0(sizeof(Interval)));
	window->time = static_cast<int64>(dlq::pg::guc_default_recovery_window_s) * USECS_PER_SEC;
	Datum values[3] = {Int32GetDatum(dlq::pg::guc_default_max_attempts), IntervalPGetDatum(lease),
	                   IntervalPGetDatum(window)};
	bool nulls[3] = {false, false, false};
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum)0;
}

// dlq._rewrite_job_table(max_live_rows, max_live_bytes): the live jobs copied into new storage of
// dlq.job (job_compact.cpp), their count; -1, with nothing changed, when there are more or larger.
PG_FUNCTION_INFO_V1(dlq_rewrite_job_table);
Datum
dlq_rewrite_job_table(PG_FUNCTION_ARGS) {
	int32 max_live_rows = PG_GETARG_INT32(0);
	int64 max_live_bytes = PG_GETARG_INT64(1);
	if (max_live_rows < 0 || max_live_bytes < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("max_live_rows and max_live_bytes must not be negative"),
		                errdetail("The values were %d and %lld.", max_live_rows, static_cast<long long>(max_live_bytes))));
	PG_RETURN_INT64(store::RewriteJobTable(max_live_rows, max_live_bytes));
}

} // extern "C"
