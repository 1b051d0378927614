// Raising a caught C++ error as a PostgreSQL error (see guard.hpp for why it is done this way).
#include <cstring>

#include "pg/guard.hpp"
#include "pg/pg_includes.hpp"

namespace dlq::pg {

static void
CopyField(char *dest, std::size_t size, const char *src) noexcept {
	strlcpy(dest, src ? src : "", size);
}

void
FillCaughtError(CaughtError *out, const char *sqlstate, const char *message, const char *detail,
                const char *hint) noexcept {
	CopyField(out->sqlstate, sizeof(out->sqlstate), sqlstate);
	if (std::strlen(out->sqlstate) != 5)
		CopyField(out->sqlstate, sizeof(out->sqlstate), "XX000");
	CopyField(out->message, sizeof(out->message), message);
	CopyField(out->detail, sizeof(out->detail), detail);
	CopyField(out->hint, sizeof(out->hint), hint);
}

void
RaiseCaughtError(const CaughtError *error) {
	const char *s = error->sqlstate;
	ereport(ERROR, (errcode(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4])), errmsg("%s", error->message),
	                error->detail[0] ? errdetail("%s", error->detail) : 0,
	                error->hint[0] ? errhint("%s", error->hint) : 0));
	pg_unreachable();
}

char *
PallocCopyNoError(const char *data, std::size_t length) {
	if (length >= MaxAllocSize)
		throw std::bad_alloc();
	char *copy = static_cast<char *>(palloc_extended(length + 1, MCXT_ALLOC_NO_OOM));
	if (copy == nullptr)
		throw std::bad_alloc();
	std::memcpy(copy, data, length);
	copy[length] = '\0';
	return copy;
}

} // namespace dlq::pg
