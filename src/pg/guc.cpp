#include "pg/guc.hpp"

#include "pg/pg_includes.hpp"

extern "C" {
#include "utils/guc.h"
#include "utils/varlena.h"
}

namespace dlq::pg {

bool guc_enabled = true;
char *guc_databases = nullptr;
int guc_sweep_interval_ms = 10000;
int guc_sweep_batch = 1000;
int guc_sweep_full_pass_interval_s = 300;
int guc_default_max_attempts = 5;
int guc_default_lease_s = 15 * 60;
int guc_default_recovery_window_s = 60 * 60;
int guc_dead_letter_partition = 0;
bool guc_claim_hints = true;
int guc_vacuum_horizon_warning_s = 600;
int guc_compact_dead_rows = 100000;
int guc_compact_max_live_rows = 10000;

static const struct config_enum_entry partition_units[] = {
    {"day", 0, false}, {"week", 1, false}, {"month", 2, false}, {nullptr, 0, false}};

// dlq.databases must be a list of identifiers, at most 64: a reload with anything else is refused (the
// old value stays, and the server log says why once) instead of stopping every sweeper.
static bool
CheckDatabases(char **newval, void **, GucSource) {
	char *copy = pstrdup(*newval != nullptr ? *newval : "");
	List *names = NIL;
	bool valid = SplitIdentifierString(copy, ',', &names);
	int count = list_length(names);
	list_free(names);
	pfree(copy);
	if (!valid) {
		GUC_check_errdetail("List syntax is invalid: a comma-separated list of database names, quoted where "
		                    "they are not lower case.");
		return false;
	}
	if (count > kMaxSweptDatabases) {
		GUC_check_errdetail("At most %d databases can be swept; %d are named.", kMaxSweptDatabases, count);
		return false;
	}
	return true;
}

void
DefineGucs() {
	DefineCustomBoolVariable("dlq.enabled", "Runs the background sweepers.",
	                         "When off, no sweeper runs; dlq.sweep() can still be called by hand.", &guc_enabled,
	                         true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomStringVariable("dlq.databases", "Databases whose queues the background sweepers serve.",
	                           "A comma-separated list. A database without the dlq extension is skipped "
	                           "and checked again later.",
	                           &guc_databases, "postgres", PGC_SIGHUP, GUC_LIST_INPUT, CheckDatabases, nullptr, nullptr);
	DefineCustomIntVariable("dlq.sweep_interval", "Time between two sweeps of a database.", nullptr,
	                        &guc_sweep_interval_ms, 10000, 100, 24 * 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
	                        nullptr, nullptr);
	DefineCustomIntVariable("dlq.sweep_batch", "Most jobs of each outcome one sweep transaction handles.",
	                        "A larger backlog is worked through in several transactions.", &guc_sweep_batch, 1000, 1,
	                        100000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("dlq.sweep_full_pass_interval",
	                        "Longest time between two sweeps that read every due job for expired leases.",
	                        "Other sweeps read each queue's claim order only up to the highest job a claim "
	                        "has leased. 0: every sweep reads everything.",
	                        &guc_sweep_full_pass_interval_s, 300, 0, 7 * 24 * 3600, PGC_SUSET, GUC_UNIT_S, nullptr,
	                        nullptr, nullptr);
	DefineCustomIntVariable("dlq.default_max_attempts", "Attempts of a new queue when create_queue gives none.",
	                        nullptr, &guc_default_max_attempts, 5, 1, 1000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("dlq.default_lease", "Lease of a new queue when create_queue gives none.", nullptr,
	                        &guc_default_lease_s, 15 * 60, 1, INT_MAX, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr,
	                        nullptr);
	DefineCustomIntVariable("dlq.default_recovery_window",
	                        "Recovery window of a new queue when create_queue gives none.", nullptr,
	                        &guc_default_recovery_window_s, 60 * 60, 1, INT_MAX, PGC_USERSET, GUC_UNIT_S, nullptr,
	                        nullptr, nullptr);
	DefineCustomEnumVariable("dlq.dead_letter_partition", "Time span of one partition of the dead letters.",
	                         "Applies to partitions created from now on.", &guc_dead_letter_partition, 0,
	                         partition_units, PGC_SUSET, 0, nullptr, nullptr, nullptr);
	DefineCustomBoolVariable("dlq.claim_hints", "Lets claims start past the claim index's dead head.",
	                         "Needs dlq in shared_preload_libraries. Off: every claim reads its queue's claim "
	                         "index from the start, stepping over the entries of finished jobs.",
	                         &guc_claim_hints, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("dlq.vacuum_horizon_warning",
	                        "How long the oldest transaction horizon may stay put before the sweeper warns.",
	                        "While it does, vacuum removes none of the rows of finished jobs and dlq.job grows; "
	                        "see dlq.vacuum_blockers. 0: never warn.",
	                        &guc_vacuum_horizon_warning_s, 600, 0, 7 * 24 * 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr,
	                        nullptr, nullptr);
	DefineCustomIntVariable("dlq.compact_dead_rows",
	                        "Dead row versions out of vacuum's reach at which the sweeper compacts dlq.job.",
	                        "Counted while the oldest transaction horizon stays put. Compaction copies the live jobs "
	                        "into new storage and drops the old, under a brief ACCESS EXCLUSIVE lock. 0: never compact.",
	                        &guc_compact_dead_rows, 100000, 0, INT_MAX, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("dlq.compact_max_live_rows", "Most live jobs a compaction of dlq.job copies.",
	                        "With more, the sweeper does not compact: the lock would be held too long.",
	                        &guc_compact_max_live_rows, 10000, 0, 10000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	MarkGUCPrefixReserved("dlq");
}

} // namespace dlq::pg
