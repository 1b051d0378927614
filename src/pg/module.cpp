// The dlq shared library: module magic and initialisation.
#include "pg/pg_includes.hpp"

extern "C" {

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void
_PG_init(void) {
}

} // extern "C"
