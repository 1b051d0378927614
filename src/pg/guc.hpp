// Configuration parameters (GUCs) of dlq. All are reloadable with SIGHUP except where noted.
#pragma once

namespace dlq::pg {

extern bool guc_enabled;                // dlq.enabled: run the background sweepers
extern char *guc_databases;             // dlq.databases: comma-separated databases the sweepers serve
extern int guc_sweep_interval_ms;       // dlq.sweep_interval
extern int guc_sweep_batch;             // dlq.sweep_batch: jobs per outcome per sweep transaction
extern int guc_sweep_full_pass_interval_s; // dlq.sweep_full_pass_interval (superuser-settable)
extern int guc_default_max_attempts;    // dlq.default_max_attempts (user-settable)
extern int guc_default_lease_s;         // dlq.default_lease (user-settable)
extern int guc_default_recovery_window_s; // dlq.default_recovery_window (user-settable)
extern int guc_dead_letter_partition;   // dlq.dead_letter_partition: day, week or month
extern bool guc_claim_hints;            // dlq.claim_hints: claims start past the dead head (user-settable)
extern int guc_vacuum_horizon_warning_s; // dlq.vacuum_horizon_warning: 0 = off
extern int guc_compact_dead_rows;       // dlq.compact_dead_rows: 0 = off
extern int guc_compact_max_live_rows;   // dlq.compact_max_live_rows

// Databases dlq.databases may name (one launcher's slots); a reload naming more is refused.
inline constexpr int kMaxSweptDatabases = 64;

void DefineGucs();

} // namespace dlq::pg
