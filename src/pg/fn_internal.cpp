// SQL-callable wrappers of the C++ core used inside the extension's own SQL: the built-in reasons,
// setting validation, attempt records and error fingerprints.
#include <string>
#include <string_view>
#include <vector>

#include "core/backoff.hpp"
#include "core/error_history.hpp"
#include "core/fingerprint.hpp"
#include "core/reasons.hpp"
#include "core/validation.hpp"
#include "pg/args.hpp"
#include "pg/guard.hpp"

using dlq::pg::CallCore;
using dlq::pg::RequireArg;
using dlq::pg::TextArg;
namespace core = dlq::core;

// Jitter applied to the queue's exponential backoff when fail() schedules a retry; the queue's policy is
// validated with the same value (jitter does not affect validity).
static constexpr double kBackoffJitter = 0.2;

extern "C" {

PG_FUNCTION_INFO_V1(dlq_builtin_reasons);
Datum
dlq_builtin_reasons(PG_FUNCTION_ARGS) {
	const std::vector<core::ReasonInfo> *reasons = nullptr;
	CallCore([&] { reasons = &core::BuiltinReasons(); });
	InitMaterializedSRF(fcinfo, 0);
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	for (std::size_t i = 0; i < reasons->size(); i++) {
		const core::ReasonInfo &reason = (*reasons)[i];
		Datum values[4] = {CStringGetTextDatum(reason.code.c_str()), CStringGetTextDatum(reason.label.c_str()),
		                   CStringGetTextDatum(reason.severity.c_str()),
		                   CStringGetTextDatum(reason.description.c_str())};
		bool nulls[4] = {false, false, false, false};
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum)0;
}

PG_FUNCTION_INFO_V1(dlq_validate_queue_settings);
Datum
dlq_validate_queue_settings(PG_FUNCTION_ARGS) {
	if (!PG_ARGISNULL(0)) {
		std::string_view queue = TextArg(fcinfo, 0);
		CallCore([&] { core::ValidateName("queue", queue); });
	}
	if (!PG_ARGISNULL(1)) {
		int32 max_attempts = PG_GETARG_INT32(1);
		CallCore([&] { core::ValidateMaxAttempts("max_attempts", max_attempts); });
	}
	if (!PG_ARGISNULL(2)) {
		int64 lease_us = dlq::pg::SettingArgMicros(fcinfo, 2);
		CallCore([&] { core::ValidatePositiveDuration("lease", lease_us); });
	}
	if (!PG_ARGISNULL(3)) {
		int64 window_us = dlq::pg::SettingArgMicros(fcinfo, 3);
		CallCore([&] { core::ValidatePositiveDuration("recovery_window", window_us); });
	}
	// retention: its callers refuse a negative one with their own hints; 0 means none.
	if (PG_NARGS() > 6 && !PG_ARGISNULL(6)) {
		int64 retention_us = dlq::pg::SettingArgMicros(fcinfo, 6);
		if (retention_us > 0)
			CallCore([&] { core::ValidatePositiveDuration("retention", retention_us); });
	}
	if (!PG_ARGISNULL(4) && !PG_ARGISNULL(5)) {
		core::BackoffPolicy policy = {dlq::pg::IntervalArgMicros(fcinfo, 4, 0),
		                              dlq::pg::IntervalArgMicros(fcinfo, 5, 0), kBackoffJitter};
		CallCore([&] { core::ValidateBackoffPolicy(policy); });
	}
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(dlq_validate_reason);
Datum
dlq_validate_reason(PG_FUNCTION_ARGS) {
	RequireArg(fcinfo, 0, "code");
	RequireArg(fcinfo, 1, "severity");
	std::string_view code = TextArg(fcinfo, 0);
	std::string_view severity = TextArg(fcinfo, 1);
	CallCore([&] {
		core::ValidateReasonCode(code);
		core::ValidateSeverity(severity);
	});
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(dlq_attempt_record);
Datum
dlq_attempt_record(PG_FUNCTION_ARGS) {
	int32 attempt = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0);
	// In UTF-8 for the core's JSON, and back in the server encoding for jsonb_in.
	std::string_view worker = PG_ARGISNULL(1) ? std::string_view() : dlq::pg::ServerToUtf8(TextArg(fcinfo, 1));
	std::string_view error = PG_ARGISNULL(2) ? std::string_view() : dlq::pg::ServerToUtf8(TextArg(fcinfo, 2));
	std::string_view details;
	bool has_details = !PG_ARGISNULL(3);
	if (has_details) {
		Jsonb *details_jsonb = PG_GETARG_JSONB_P(3);
		details = dlq::pg::ServerToUtf8(JsonbToCString(nullptr, &details_jsonb->root, VARSIZE(details_jsonb)));
	}
	char at[MAXDATELEN + 1];
	JsonEncodeDateTime(at, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), TIMESTAMPTZOID, nullptr);

	char *json = nullptr;
	CallCore([&] {
		core::AttemptRecord record{attempt, at, std::string(worker), std::string(error), std::nullopt};
		if (has_details)
			record.details = std::string(details);
		json = dlq::pg::PallocCopyNoError(core::AttemptRecordJson(record));
	});
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(dlq::pg::Utf8ToServer(json)));
}

// When a failed attempt is retried: after retry_in when given, else after the queue's backoff for that
// attempt, from the transaction's start. Computed inside fail()'s update, which reads the attempt and the
// queue's policy from the row it changes, so fail() needs no separate read (and no row lock) first. A time
// past the end of the timestamp range is 'infinity'.
PG_FUNCTION_INFO_V1(dlq_retry_at);
Datum
dlq_retry_at(PG_FUNCTION_ARGS) {
	RequireArg(fcinfo, 0, "attempt");
	RequireArg(fcinfo, 1, "backoff_base");
	RequireArg(fcinfo, 2, "backoff_max");
	RequireArg(fcinfo, 3, "unit_random");
	int64 delay_us = dlq::pg::IntervalArgMicros(fcinfo, 4, 0);
	if (PG_ARGISNULL(4)) {
		int32 attempt = PG_GETARG_INT32(0);
		double unit_random = PG_GETARG_FLOAT8(3);
		core::BackoffPolicy policy = {dlq::pg::IntervalArgMicros(fcinfo, 1, 0), dlq::pg::IntervalArgMicros(fcinfo, 2, 0),
		                              kBackoffJitter};
		CallCore([&] { delay_us = core::BackoffDelayUs(policy, attempt, unit_random); });
	} else {
		CallCore([&] { core::ValidateNonNegativeDuration("retry_in", delay_us); });
	}
	TimestampTz run_at;
	if (__builtin_add_overflow(GetCurrentTransactionStartTimestamp(), delay_us, &run_at) || !IS_VALID_TIMESTAMP(run_at))
		run_at = DT_NOEND;
	PG_RETURN_TIMESTAMPTZ(run_at);
}

PG_FUNCTION_INFO_V1(dlq_fingerprint);
Datum
dlq_fingerprint(PG_FUNCTION_ARGS) {
	// In UTF-8: the core cuts the fingerprint on a UTF-8 character boundary (cut in another multibyte
	// encoding, EUC_JP, it could end in half a character, invalid text).
	std::string_view error = dlq::pg::ServerToUtf8(TextArg(fcinfo, 0));
	char *fingerprint = nullptr;
	CallCore([&] { fingerprint = dlq::pg::PallocCopyNoError(core::Fingerprint(error)); });
	PG_RETURN_TEXT_P(cstring_to_text(dlq::pg::Utf8ToServer(fingerprint)));
}

} // extern "C"
