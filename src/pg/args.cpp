#include "core/validation.hpp"
#include "pg/args.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "tcop/utility.h"
}

namespace dlq::pg {

void
RequireArg(FunctionCallInfo fcinfo, int argno, const char *name) {
	if (PG_ARGISNULL(argno))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be null", name)));
}

void
RefuseReadOnly(const char *what) {
	PreventCommandIfReadOnly(what);
	PreventCommandIfParallelMode(what);
}

std::string_view
TextArg(FunctionCallInfo fcinfo, int argno) {
	text *value = PG_GETARG_TEXT_PP(argno);
	return std::string_view(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

std::string_view
ServerToUtf8(std::string_view text) {
	// SQL_ASCII holds any bytes, and PostgreSQL would check them as UTF-8 (an error: a worker could not
	// report a failure whose message has a stray byte). The core copes with invalid UTF-8 itself.
	if (GetDatabaseEncoding() == PG_SQL_ASCII)
		return text;
	const char *converted = pg_server_to_any(text.data(), static_cast<int>(text.size()), PG_UTF8);
	return converted == text.data() ? text : std::string_view(converted, strlen(converted));
}

const char *
Utf8ToServer(const char *utf8) {
	if (GetDatabaseEncoding() == PG_SQL_ASCII)
		return utf8;
	return pg_any_to_server(utf8, static_cast<int>(strlen(utf8)), PG_UTF8);
}

int64_t
IntervalMicros(const Interval *interval) {
	int64_t days_us = 0;
	int64_t months_us = 0;
	int64_t total = 0;
	if (__builtin_mul_overflow(static_cast<int64_t>(interval->day), USECS_PER_DAY, &days_us) ||
	    __builtin_mul_overflow(static_cast<int64_t>(interval->month), DAYS_PER_MONTH * USECS_PER_DAY, &months_us) ||
	    __builtin_add_overflow(interval->time, days_us, &total) ||
	    __builtin_add_overflow(total, months_us, &total))
		return (interval->month < 0 || interval->day < 0 || interval->time < 0) ? INT64_MIN : INT64_MAX;
	return total;
}

int64_t
SettingArgMicros(FunctionCallInfo fcinfo, int argno) {
	const Interval *interval = PG_GETARG_INTERVAL_P(argno);
	constexpr int64_t kMaxMonths = core::kMaxSettingMicros / (DAYS_PER_MONTH * USECS_PER_DAY);
	constexpr int64_t kMaxDays = core::kMaxSettingMicros / USECS_PER_DAY;
	if (interval->month > kMaxMonths || interval->month < -kMaxMonths || interval->day > kMaxDays ||
	    interval->day < -kMaxDays || interval->time > core::kMaxSettingMicros || interval->time < -core::kMaxSettingMicros)
		return INT64_MAX;
	return IntervalMicros(interval);
}

int64_t
IntervalArgMicros(FunctionCallInfo fcinfo, int argno, int64_t fallback) {
	if (PG_ARGISNULL(argno))
		return fallback;
	return IntervalMicros(PG_GETARG_INTERVAL_P(argno));
}

} // namespace dlq::pg

namespace dlq::pg {

void
RaiseUnknownQueue(std::string_view queue) {
	ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
	                errmsg("queue \"%.*s\" does not exist", static_cast<int>(queue.size()), queue.data()),
	                errhint("Create it with dlq.create_queue().")));
	pg_unreachable();
}

Datum
Int64ArrayOfOne(int64 value) {
	Datum element = Int64GetDatum(value);
	return PointerGetDatum(construct_array(&element, 1, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

} // namespace dlq::pg
