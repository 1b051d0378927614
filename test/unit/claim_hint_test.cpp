#include "core/claim_hint.hpp"

#include <gtest/gtest.h>

#include "claim_key_helpers.hpp"

namespace dlq::core {
namespace {

using test_support::Key;
using test_support::SameKey;

// A hint that one claim, with no writer around, has raised to `key`.
ClaimHint RaisedTo(const ClaimKey &key) {
	ClaimHint hint;
	FinishClaim(hint, BeginClaim(hint), key);
	return hint;
}

TEST(KeyBefore, OrdersLikeTheClaimIndex) {
	EXPECT_TRUE(KeyBefore(Key(0, 100, 5), Key(1, 0, 0)));   // priority first
	EXPECT_TRUE(KeyBefore(Key(0, 99, 9), Key(0, 100, 1)));  // then run_at
	EXPECT_TRUE(KeyBefore(Key(0, 100, 1), Key(0, 100, 2))); // then id
	EXPECT_FALSE(KeyBefore(Key(0, 100, 2), Key(0, 100, 2)));
	EXPECT_TRUE(KeyBefore(kLowestClaimKey, Key(INT32_MIN, INT64_MIN, INT64_MIN + 1)));
	EXPECT_FALSE(KeyBefore(Key(INT32_MIN, INT64_MIN, INT64_MIN), kLowestClaimKey));
}

TEST(ClaimHint, StartsAtTheLowestKey) {
	ClaimHint hint;
	ClaimStart begun = BeginClaim(hint);
	EXPECT_TRUE(SameKey(begun.start, kLowestClaimKey));
	EXPECT_TRUE(begun.may_raise);
}

TEST(ClaimHint, AClaimWithNoWriterAroundRaisesIt) {
	ClaimHint hint;
	ClaimStart begun = BeginClaim(hint);
	EXPECT_TRUE(FinishClaim(hint, begun, Key(0, 500, 7)));
	EXPECT_TRUE(SameKey(hint.start, Key(0, 500, 7)));
	// The next claim starts there.
	EXPECT_TRUE(SameKey(BeginClaim(hint).start, Key(0, 500, 7)));
}

TEST(ClaimHint, NeverMovesDown) {
	ClaimHint hint = RaisedTo(Key(0, 500, 7));
	ClaimStart begun = BeginClaim(hint);
	EXPECT_FALSE(FinishClaim(hint, begun, Key(0, 400, 1)));
	EXPECT_FALSE(FinishClaim(hint, begun, Key(0, 500, 7)));
	EXPECT_TRUE(SameKey(hint.start, Key(0, 500, 7)));
}

TEST(ClaimHint, AWriteLowersItToItsKey) {
	ClaimHint hint = RaisedTo(Key(5, 500, 7));
	NoteWrite(hint, Key(1, 900, 8), true); // a more urgent priority, later run_at: before the hint
	EXPECT_TRUE(SameKey(hint.start, Key(1, 900, 8)));
	NoteWrite(hint, Key(9, 0, 1), false); // after the hint: unchanged
	EXPECT_TRUE(SameKey(hint.start, Key(1, 900, 8)));
	EXPECT_EQ(hint.writes, 2u);
	EXPECT_EQ(hint.open_writers, 1);
}

// The race the protocol exists for: a claim that began while a writer was open must not move the hint
// past the writer's job, which its snapshot may not see.
TEST(ClaimHint, AClaimThatBeganWithAnOpenWriterCannotRaiseIt) {
	ClaimHint hint;
	NoteWrite(hint, Key(0, 100, 1), true); // transaction open, not yet committed
	ClaimStart begun = BeginClaim(hint);
	EXPECT_FALSE(begun.may_raise);
	EXPECT_FALSE(FinishClaim(hint, begun, Key(0, 200, 2))); // its snapshot did not see job 1
	EXPECT_TRUE(SameKey(hint.start, kLowestClaimKey));
	EndWriter(hint);
	// Once the writer ended before a claim began, that claim's snapshot sees the job.
	ClaimStart later = BeginClaim(hint);
	EXPECT_TRUE(later.may_raise);
	EXPECT_TRUE(FinishClaim(hint, later, Key(0, 100, 1)));
}

TEST(ClaimHint, AWriteDuringTheClaimKeepsTheHint) {
	ClaimHint hint;
	ClaimStart begun = BeginClaim(hint);
	NoteWrite(hint, Key(0, 100, 1), true); // after the claim's snapshot: invisible to it
	EXPECT_FALSE(FinishClaim(hint, begun, Key(0, 200, 2)));
	EXPECT_TRUE(SameKey(hint.start, kLowestClaimKey));
}

TEST(ClaimHint, AWriteAfterTheClaimLowersWhatTheClaimRaised) {
	ClaimHint hint = RaisedTo(Key(0, 200, 2));
	NoteWrite(hint, Key(0, 100, 1), true);
	EXPECT_TRUE(SameKey(hint.start, Key(0, 100, 1)));
}

TEST(ClaimHint, ConcurrentClaimsKeepTheHighestStart) {
	ClaimHint hint;
	ClaimStart first = BeginClaim(hint);
	ClaimStart second = BeginClaim(hint);
	EXPECT_TRUE(FinishClaim(hint, second, Key(0, 300, 3)));
	EXPECT_FALSE(FinishClaim(hint, first, Key(0, 200, 2)));
	EXPECT_TRUE(SameKey(hint.start, Key(0, 300, 3)));
}

TEST(ClaimHint, AnUnknownWriteGoesBackToTheStart) {
	ClaimHint hint = RaisedTo(Key(0, 300, 3));
	ClaimStart begun = BeginClaim(hint);
	NoteUnknownWrite(hint, true);
	EXPECT_TRUE(SameKey(hint.start, kLowestClaimKey));
	EXPECT_FALSE(FinishClaim(hint, begun, Key(0, 400, 4)));
	EXPECT_FALSE(BeginClaim(hint).may_raise);
}

TEST(ClaimHint, EndWriterNeverGoesNegative) {
	ClaimHint hint;
	EndWriter(hint);
	EXPECT_EQ(hint.open_writers, 0);
	EXPECT_TRUE(BeginClaim(hint).may_raise);
}

// A claim that saw a running job first: sweeps keep reading from it (start), claims start at the first
// waiting entry after it (claim_start).
TEST(ClaimStartKey, ClaimsPassRunningJobsSweepsDoNot) {
	ClaimHint hint;
	ClaimStart begun = BeginClaim(hint);
	ASSERT_TRUE(begun.at_start);
	EXPECT_TRUE(FinishClaim(hint, begun, Key(0, 100, 1), true, Key(0, 100, 5)));
	EXPECT_TRUE(SameKey(hint.start, Key(0, 100, 1)));
	EXPECT_TRUE(SameKey(hint.claim_start, Key(0, 100, 5)));
	ClaimStart next = BeginClaim(hint);
	EXPECT_FALSE(next.at_start);
	EXPECT_TRUE(SameKey(next.start, Key(0, 100, 5)));
	// A claim that did not read from start does not raise it, whatever it saw first.
	EXPECT_TRUE(FinishClaim(hint, next, Key(0, 100, 6), true, Key(0, 100, 7)));
	EXPECT_TRUE(SameKey(hint.start, Key(0, 100, 1)));
	EXPECT_TRUE(SameKey(hint.claim_start, Key(0, 100, 7)));
}

TEST(ClaimStartKey, OneClaimInNReadsFromStartAndRaisesIt) {
	ClaimHint hint;
	FinishClaim(hint, BeginClaim(hint), Key(0, 100, 1), true, Key(0, 100, 5));
	uint32_t from_start = 0;
	for (uint32_t i = 0; i < kClaimsPerStartRead; i++) {
		ClaimStart begun = BeginClaim(hint);
		if (begun.at_start) {
			from_start++;
			EXPECT_TRUE(SameKey(begun.start, Key(0, 100, 1)));
			// The running job has ended: the first entry it sees is waiting.
			EXPECT_TRUE(FinishClaim(hint, begun, Key(0, 100, 5), true, Key(0, 100, 5)));
		}
	}
	EXPECT_EQ(from_start, 1u);
	EXPECT_TRUE(SameKey(hint.start, Key(0, 100, 5)));
	EXPECT_TRUE(BeginClaim(hint).at_start); // the two keys met again
}

TEST(ClaimStartKey, AWriteLowersBothAndClaimStartNeverFallsBelowStart) {
	ClaimHint hint;
	FinishClaim(hint, BeginClaim(hint), Key(0, 100, 3), true, Key(0, 100, 9));
	NoteWrite(hint, Key(0, 100, 6), true);
	EXPECT_TRUE(SameKey(hint.start, Key(0, 100, 3)));
	EXPECT_TRUE(SameKey(hint.claim_start, Key(0, 100, 6)));
	NoteWrite(hint, Key(0, 100, 2), false);
	EXPECT_TRUE(SameKey(hint.start, Key(0, 100, 2)));
	EXPECT_TRUE(SameKey(hint.claim_start, Key(0, 100, 2)));
	EndWriter(hint);
	// A claim that saw no waiting entry leaves claim_start where it was, at or above start.
	ClaimStart begun = BeginClaim(hint);
	EXPECT_TRUE(FinishClaim(hint, begun, Key(0, 100, 4), false, Key(0, 0, 0)));
	EXPECT_TRUE(SameKey(hint.start, Key(0, 100, 4)));
	EXPECT_TRUE(SameKey(hint.claim_start, Key(0, 100, 4)));
	ResetHint(hint);
	EXPECT_TRUE(SameKey(hint.start, kLowestClaimKey));
	EXPECT_TRUE(SameKey(hint.claim_start, kLowestClaimKey));
}

TEST(ClaimStartKey, AWriteDuringTheClaimMovesNeitherKey) {
	ClaimHint hint;
	ClaimStart begun = BeginClaim(hint);
	NoteWrite(hint, Key(0, 900, 9), true);
	EXPECT_FALSE(FinishClaim(hint, begun, Key(0, 100, 1), true, Key(0, 100, 5)));
	EXPECT_TRUE(SameKey(hint.start, kLowestClaimKey));
	EXPECT_TRUE(SameKey(hint.claim_start, kLowestClaimKey));
}

TEST(ClaimStartKey, TheTurnCounterRunsOnlyWhileTheKeysDiffer) {
	ClaimHint hint;
	for (int i = 0; i < 3; i++)
		EXPECT_TRUE(BeginClaim(hint).at_start);
	EXPECT_EQ(hint.claims, 0u);
	FinishClaim(hint, BeginClaim(hint), Key(0, 100, 1), true, Key(0, 100, 5));
	EXPECT_FALSE(BeginClaim(hint).at_start);
	EXPECT_EQ(hint.claims, 1u);
	ResetHint(hint);
	EXPECT_EQ(hint.claims, 0u);
}

} // namespace
} // namespace dlq::core
