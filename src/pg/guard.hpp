// The one boundary between C++ and PostgreSQL error handling.
//
// PostgreSQL reports errors with ereport(), which longjmps; C++ reports them with exceptions, which
// unwind. Neither may cross the other: an exception unwinding into PostgreSQL's C frames ends in
// std::terminate (a crash restart of the whole cluster), and a longjmp across a live C++ object skips
// its destructor (leaks, held locks). So:
//  - fmgr entry points (src/pg/fn_*.cpp) are C-style: they hold only PODs, palloc'd memory and Datums
//    while they call PostgreSQL (SPI, fmgr, catalog), so a longjmp out of them skips nothing;
//  - every call into C++ code that may throw (the core, std containers, nlohmann/json) goes through
//    CallCore(). It catches everything, copies the message into fixed buffers, leaves the catch block
//    (so the exception object is destroyed) and only then raises the PostgreSQL error, keeping the
//    core's SQLSTATE, detail and hint;
//  - code inside CallCore never calls anything that can ereport: memory handed back to PostgreSQL is
//    allocated with PallocCopyNoError(), which throws std::bad_alloc instead of longjmp-ing.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "core/error.hpp"

namespace dlq::pg {

struct CaughtError {
	char sqlstate[6];
	char message[1024];
	char detail[1024];
	char hint[512];
};

void FillCaughtError(CaughtError *out, const char *sqlstate, const char *message, const char *detail,
                     const char *hint) noexcept;
[[noreturn]] void RaiseCaughtError(const CaughtError *error);

// Copies bytes into memory palloc'd in the current memory context, NUL-terminated. Never ereports:
// throws std::bad_alloc when memory is short, so it is safe inside CallCore.
char *PallocCopyNoError(const char *data, std::size_t length);
inline char *
PallocCopyNoError(const std::string &value) {
	return PallocCopyNoError(value.data(), value.size());
}

template <typename Fn>
void
CallCore(Fn &&fn) {
	CaughtError error;
	bool failed = true;
	try {
		fn();
		failed = false;
	} catch (const dlq::core::Error &e) {
		FillCaughtError(&error, e.sqlstate.c_str(), e.what(), e.detail.c_str(), e.hint.c_str());
	} catch (const std::bad_alloc &) {
		FillCaughtError(&error, "53200", "out of memory", "", "");
	} catch (const std::exception &e) {
		FillCaughtError(&error, "XX000", "internal error in dlq", e.what(), "");
	} catch (...) {
		FillCaughtError(&error, "XX000", "internal error in dlq", "An unknown C++ exception was caught.", "");
	}
	if (failed)
		RaiseCaughtError(&error);
}

} // namespace dlq::pg
