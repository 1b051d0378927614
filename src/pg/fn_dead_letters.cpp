// SQL entry points that move jobs to and from the dead letters: dlq.dead_letter and the job-store
// helpers behind dlq.reprocess and dlq.drop_queue.
#include "pg/args.hpp"
#include "pg/job_store.hpp"
#include "pg/spi_util.hpp"

using dlq::pg::RequireArg;
namespace store = dlq::pg::store;

static dlq::pg::KeptStatement reason_exists = {"SELECT 1 FROM dlq.reason WHERE code = $1", 1, {TEXTOID}, nullptr};

static void
ConnectSpi() {
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dlq: SPI_connect failed");
}

extern "C" {
PG_FUNCTION_INFO_V1(dlq_dead_letter);
Datum
dlq_dead_letter(PG_FUNCTION_ARGS) {
	dlq::pg::RefuseReadOnly("dlq.dead_letter()");
	RequireArg(fcinfo, 0, "job_id");
	RequireArg(fcinfo, 1, "reason");
	int64 job_id = PG_GETARG_INT64(0);
	char *reason = text_to_cstring(PG_GETARG_TEXT_PP(1));

	ConnectSpi();
	Datum reason_datum = PG_GETARG_DATUM(1);
	if (dlq::pg::ExecKept(&reason_exists, &reason_datum, nullptr) != 1)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("unknown dead-letter reason \"%s\"", reason),
		                errhint("See SELECT code FROM dlq.reasons, or add it with dlq.register_reason().")));

	store::DeadLetterMove move = {};
	move.job_ids = dlq::pg::Int64ArrayOfOne(job_id);
	move.reason = reason;
	move.detected_by = "manual";
	move.error_is_null = true;
	move.details_is_null = true;
	move.metadata_is_null = true;
	move.notes = PG_ARGISNULL(2) ? (Datum)0 : PG_GETARG_DATUM(2);
	move.notes_is_null = PG_ARGISNULL(2);
	int64 dead_letter_id = 0;
	if (store::MoveToDeadLetters(&move) == 1) {
		bool isnull;
		dead_letter_id = dlq::pg::SpiInt64(0, 1, &isnull);
	} else {
		// Already dead (by us earlier, a worker or the sweeper): dead-lettering is idempotent.
		dead_letter_id = store::FindDeadLetterOfJob(PG_GETARG_DATUM(0));
	}
	SPI_finish();
	if (dead_letter_id == 0)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("job %lld does not exist", (long long)job_id),
		                errdetail("It is neither a live job nor a dead letter.")));
	PG_RETURN_INT64(dead_letter_id);
}

PG_FUNCTION_INFO_V1(dlq_requeue_dead_letters);
Datum
dlq_requeue_dead_letters(PG_FUNCTION_ARGS) {
	ConnectSpi();
	store::RequeueDeadLetters(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1));
	dlq::pg::ReturnSpiRowsAsSet(fcinfo);
	SPI_finish();
	return (Datum)0;
}

PG_FUNCTION_INFO_V1(dlq_delete_queue_jobs);
Datum
dlq_delete_queue_jobs(PG_FUNCTION_ARGS) {
	ConnectSpi();
	uint64 deleted = store::DeleteQueueJobs(PG_GETARG_DATUM(0));
	SPI_finish();
	PG_RETURN_INT64(static_cast<int64>(deleted));
}

} // extern "C"
