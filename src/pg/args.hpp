// Reading fmgr arguments into plain values. These run outside CallCore (they may ereport) and create
// no C++ objects with destructors.
#pragma once

#include <cstdint>
#include <string_view>

#include "pg/pg_includes.hpp"

namespace dlq::pg {

// Raises 22004 "<name> must not be null" when argument argno is NULL.
void RequireArg(FunctionCallInfo fcinfo, int argno, const char *name);

// Raises 25006 "cannot execute <what> in a read-only transaction" (a standby's included), and refuses
// parallel mode, as the executor would before a write. A function that writes calls it first: its direct
// paths have no executor to check, and its statements would be named instead ("cannot execute UPDATE").
void RefuseReadOnly(const char *what);

// The bytes of a text argument (detoasted for the duration of the call). The argument must not be NULL.
std::string_view TextArg(FunctionCallInfo fcinfo, int argno);

// The core reads and writes JSON in UTF-8, and the database may be in another encoding (LATIN1: "café"
// was not valid JSON to it, and came back as "caf\ufffd"). Text in the server encoding as UTF-8
// (the same bytes in a UTF-8 or SQL_ASCII database: the core copes with bytes that are not UTF-8); and
// UTF-8 text of the core in the server encoding, NUL-terminated. Both may ereport (a character the other
// encoding lacks): call them outside CallCore.
std::string_view ServerToUtf8(std::string_view text);
const char *Utf8ToServer(const char *utf8);

// An interval as microseconds (months count as 30 days, like PostgreSQL's interval comparisons);
// saturates instead of overflowing.
int64_t IntervalMicros(const Interval *interval);

// The argument's interval in microseconds, or `fallback` when it is NULL.
int64_t IntervalArgMicros(FunctionCallInfo fcinfo, int argno, int64_t fallback);
// The same for a setting bounded by core::kMaxSettingMicros (a lease, a recovery window, a retention):
// INT64_MAX when a field alone passes the bound. now() plus an interval adds its months, days and
// time one after another, so '295000 years -106200000 days' (an hour in all) leaves the timestamp range.
int64_t SettingArgMicros(FunctionCallInfo fcinfo, int argno);

} // namespace dlq::pg

namespace dlq::pg {

// Raises 42704 "queue "<name>" does not exist" with a hint to create it.
[[noreturn]] void RaiseUnknownQueue(std::string_view queue);

// A one-element bigint[] holding value.
Datum Int64ArrayOfOne(int64 value);

} // namespace dlq::pg
