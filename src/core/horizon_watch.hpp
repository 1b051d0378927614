// When the sweeper warns that vacuum cannot clean dlq.job.
//
// Vacuum removes a dead row version only once it is older than every transaction horizon (xmin) still
// held. The sweeper reads the oldest horizon every pass. The horizon of a busy database moves on all the
// time; one that stays put past dlq.vacuum_horizon_warning while dlq.job gains dead rows belongs to a
// holder that has stopped (a session idle in a transaction, a forgotten prepared transaction, a
// standby's slot), and dlq.job keeps every row version written since. A horizon that stays put because
// nothing writes at all is harmless, and so are dead rows that were there before it (autovacuum has not
// reached them yet): the watch counts only the dead rows added while the horizon is held. It warns then,
// once per threshold while it lasts. A new horizon starts over.
//
// The same observation decides when the sweeper compacts dlq.job (copies its live jobs into new storage
// and drops the old, src/pg/job_compact.cpp): only the dead rows added while a horizon is held are
// certain to be out of vacuum's reach, so they are what dlq.compact_dead_rows counts. A compaction that
// gave up after waiting for the lock or reading too many live jobs is tried again only after a pause,
// since each such try costs the workers; one refused at a glance is tried again next pass.
// Pure and noexcept: the sweeper calls it from frames that ereport() may longjmp through.
#pragma once
#include <cstdint>

#include "core/no_postgres.hpp"

namespace dlq::core {

struct HorizonWatch {
	bool seen = false;
	uint32_t horizon = 0;          // the transaction id observed as the oldest horizon
	int64_t first_seen_us = 0;     // when this horizon was first observed
	int64_t fewest_dead_rows = -1; // the fewest dead rows seen since (vacuum may remove older ones); -1: none known
	int64_t last_warned_us = 0;    // 0: no warning yet for this horizon
	int64_t compactions = 0;       // of dlq.job while this horizon was held
	int64_t compact_not_before_us = 0; // after a compaction that gave up
};

struct HorizonObservation {
	bool has_horizon;  // false: no session, prepared transaction or slot holds one
	uint32_t horizon;
	int64_t now_us;
	int64_t dead_rows; // dead row versions in dlq.job (statistics; -1 when unknown)
};

struct HorizonPolicy {
	int64_t threshold_us;  // dlq.vacuum_horizon_warning; <= 0 disables warnings
	int64_t min_dead_rows; // fewer dead rows added while held are not worth a warning
};

// Records one observation; true when a warning is due. *held_us: how long the horizon has been seen
// in place (0 for a new one); *added_dead_rows: dead rows added while it was (0 when unknown).
bool ObserveHorizon(HorizonWatch &watch, const HorizonObservation &seen, const HorizonPolicy &policy,
                    int64_t *held_us, int64_t *added_dead_rows) noexcept;

struct CompactionPolicy {
	int64_t min_dead_rows;  // dlq.compact_dead_rows; <= 0 disables compaction
	int64_t retry_after_us; // pause after a compaction that gave up
};

// After ObserveHorizon (its *held_us and *added_dead_rows): whether dlq.job is due for compaction.
bool CompactionDue(const HorizonWatch &watch, int64_t now_us, int64_t held_us, int64_t added_dead_rows,
                   const CompactionPolicy &policy) noexcept;

enum class CompactionResult {
	kCompacted,
	kRefused, // without waiting or reading dlq.job (a lock held for long, a trigger): tried again next pass
	kGaveUp,  // after waiting for the lock, or reading too many live jobs: tried again after a pause
};

// Records a compaction's outcome. One that happened restarts the count of added dead rows from zero
// (compaction removes them all, and the statistics with them, so every dead row seen next was added
// since).
void NoteCompaction(HorizonWatch &watch, CompactionResult result, int64_t now_us,
                    const CompactionPolicy &policy) noexcept;

} // namespace dlq::core
