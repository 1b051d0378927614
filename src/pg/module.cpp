// The dlq shared library: module magic, configuration and the background launcher.
#include "core/claim_hint.hpp"
#include "pg/claim_hint.hpp"
#include "pg/guc.hpp"
#include "pg/pg_includes.hpp"

extern "C" {
#include "postmaster/postmaster.h"
}

namespace dlq::pg {
void RegisterLauncher();
}

extern "C" {

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void
_PG_init(void) {
	dlq::pg::DefineGucs();
	// The sweepers and the claim hints exist only when preloaded; without them dlq.sweep() can still run
	// from pg_cron, and claims read their queue's claim index from its start.
	if (!process_shared_preload_libraries_in_progress || IsBinaryUpgrade)
		return;
	dlq::pg::hint::InstallSharedMemoryHooks();
	dlq::pg::RegisterLauncher();
}

} // extern "C"
