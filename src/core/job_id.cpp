#include "core/job_id.hpp"

namespace dlq::core {

bool
TakePlainLaneNext(bool have_index_job, const ClaimKey &index_job, bool have_plain_job,
                  const ClaimKey &plain_job) noexcept {
	if (!have_plain_job)
		return false;
	return !have_index_job || KeyBefore(plain_job, index_job);
}

} // namespace dlq::core
