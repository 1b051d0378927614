// SPI helpers: plans prepared once per backend and kept, and copying SPI results out as SRF rows.
// Callers must be between SPI_connect() and SPI_finish().
#pragma once

#include "pg/pg_includes.hpp"

namespace dlq::pg {

// A statement whose plan is prepared on first use and kept for the life of the backend. The plan
// cache replans it by itself after DDL or new statistics.
struct KeptStatement {
	const char *sql;
	int nargs;
	Oid argtypes[10];
	SPIPlanPtr plan;
	// Always use the generic plan: for a statement whose plan is pinned and costly to make (the claim's
	// recursive scan costs more to plan than to run), planning per call is pure overhead.
	bool generic_plan = false;
};

// Executes the statement (preparing it on first use); returns SPI_processed. Raises on SPI failure.
uint64 ExecKept(KeptStatement *statement, Datum *values, const char *nulls, long max_rows = 0);

// Convenience readers of the current SPI_tuptable.
int64 SpiInt64(uint64 row, int column, bool *isnull);
int32 SpiInt32(uint64 row, int column, bool *isnull);
bool SpiBool(uint64 row, int column, bool *isnull);

// Starts a materialized set-returning result and copies every row of SPI_tuptable into it. The
// statement's first columns must match the function's declared result columns in number and type;
// columns after them are left out.
void ReturnSpiRowsAsSet(FunctionCallInfo fcinfo);

} // namespace dlq::pg
