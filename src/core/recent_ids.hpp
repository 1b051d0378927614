// A small, fixed memory of recent job ids, for hints that only ever choose the order of work.
//
// A claim that leases a job's last attempt remembers its id here; a later fail() of that id in the same
// backend then tries the dead-letter move first instead of a retry that cannot apply (both statements
// check the job themselves, so a wrong or missing hint costs one statement, never a wrong outcome).
// A ring: the oldest id is forgotten when it is full. Pure and noexcept.
#pragma once
#include <cstdint>

#include "core/no_postgres.hpp"

namespace dlq::core {

class RecentIds {
public:
	static constexpr int kCapacity = 64;

	void Remember(int64_t id) noexcept;
	// Whether `id` was remembered; forgets it.
	bool Forget(int64_t id) noexcept;

private:
	int64_t ids_[kCapacity] = {};
	bool used_[kCapacity] = {};
	int next_ = 0;
};

} // namespace dlq::core
