#include "pg/spi_util.hpp"

namespace dlq::pg {

uint64
ExecKept(KeptStatement *statement, Datum *values, const char *nulls, long max_rows) {
	if (statement->plan == nullptr) {
		SPIPlanPtr plan = SPI_prepare_cursor(statement->sql, statement->nargs, statement->argtypes,
		                                     statement->generic_plan ? CURSOR_OPT_GENERIC_PLAN : 0);
		if (plan == nullptr)
			elog(ERROR, "dlq: could not prepare statement: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "dlq: could not keep statement plan");
		statement->plan = plan;
	}
	int rc = SPI_execute_plan(statement->plan, values, nulls, false, max_rows);
	if (rc < 0)
		elog(ERROR, "dlq: statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

static Datum
SpiDatum(uint64 row, int column, bool *isnull) {
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, isnull);
}

int64
SpiInt64(uint64 row, int column, bool *isnull) {
	Datum value = SpiDatum(row, column, isnull);
	return *isnull ? 0 : DatumGetInt64(value);
}

int32
SpiInt32(uint64 row, int column, bool *isnull) {
	Datum value = SpiDatum(row, column, isnull);
	return *isnull ? 0 : DatumGetInt32(value);
}

bool
SpiBool(uint64 row, int column, bool *isnull) {
	Datum value = SpiDatum(row, column, isnull);
	return *isnull ? false : DatumGetBool(value);
}

void
ReturnSpiRowsAsSet(FunctionCallInfo fcinfo) {
	InitMaterializedSRF(fcinfo, 0);
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	TupleDesc source = SPI_tuptable->tupdesc;
	int natts = rsinfo->setDesc->natts;
	if (source->natts < natts)
		elog(ERROR, "dlq: result has %d columns, expected at least %d", source->natts, natts);
	Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * source->natts));
	bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * source->natts));
	for (uint64 row = 0; row < SPI_processed; row++) {
		heap_deform_tuple(SPI_tuptable->vals[row], source, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

} // namespace dlq::pg
