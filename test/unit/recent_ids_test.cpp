#include "core/recent_ids.hpp"

#include <gtest/gtest.h>

namespace dlq::core {
namespace {

TEST(RecentIds, RemembersUntilForgotten) {
	RecentIds ids;
	EXPECT_FALSE(ids.Forget(7));
	ids.Remember(7);
	ids.Remember(9);
	EXPECT_TRUE(ids.Forget(7));
	EXPECT_FALSE(ids.Forget(7)); // once
	EXPECT_TRUE(ids.Forget(9));
}

TEST(RecentIds, ZeroAndNegativeIdsAreIdsLikeAnyOther) {
	RecentIds ids;
	EXPECT_FALSE(ids.Forget(0)); // an empty slot is not id 0
	ids.Remember(0);
	ids.Remember(-1);
	EXPECT_TRUE(ids.Forget(0));
	EXPECT_TRUE(ids.Forget(-1));
}

TEST(RecentIds, AFullRingForgetsTheOldest) {
	RecentIds ids;
	for (int64_t id = 1; id <= RecentIds::kCapacity + 2; id++)
		ids.Remember(id);
	EXPECT_FALSE(ids.Forget(1));
	EXPECT_FALSE(ids.Forget(2));
	for (int64_t id = 3; id <= RecentIds::kCapacity + 2; id++)
		EXPECT_TRUE(ids.Forget(id)) << id;
}

TEST(RecentIds, AnIdRememberedTwiceIsForgottenOnceAtATime) {
	RecentIds ids;
	ids.Remember(5);
	ids.Remember(5);
	EXPECT_TRUE(ids.Forget(5));
	EXPECT_TRUE(ids.Forget(5));
	EXPECT_FALSE(ids.Forget(5));
}

} // namespace
} // namespace dlq::core
