// Reading fmgr arguments into plain values. These run outside CallCore (they may ereport) and create
// no C++ objects with destructors.
#pragma once

#include <cstdint>
#include <string_view>

#include "pg/pg_includes.hpp"

namespace dlq::pg {

// Raises 22004 "<name> must not be null" when argument argno is NULL.
void RequireArg(FunctionCallInfo fcinfo, int argno, const char *name);

// The bytes of a text argument (detoasted for the duration of the call). The argument must not be NULL.
std::string_view TextArg(FunctionCallInfo fcinfo, int argno);

// An interval as microseconds (months count as 30 days, like PostgreSQL's interval comparisons);
// saturates instead of overflowing.
int64_t IntervalMicros(const Interval *interval);

// The argument's interval in microseconds, or `fallback` when it is NULL.
int64_t IntervalArgMicros(FunctionCallInfo fcinfo, int argno, int64_t fallback);

} // namespace dlq::pg

namespace dlq::pg {

// Raises 42704 "queue "<name>" does not exist" with a hint to create it.
[[noreturn]] void RaiseUnknownQueue(std::string_view queue);

// A one-element bigint[] holding value.
Datum Int64ArrayOfOne(int64 value);

} // namespace dlq::pg
