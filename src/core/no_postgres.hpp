// Included last by every core header: the core must never see a PostgreSQL header, so that it
// stays unit-testable without a server and free of longjmp hazards.
#pragma once
#if defined(POSTGRES_H)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif
