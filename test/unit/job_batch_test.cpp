#include "core/job_batch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/validation.hpp"
#include "expect_error.hpp"

namespace dlq::core {
namespace {

using test_support::CatchError;

std::string Repeat(const std::string &element, int count) {
	std::string out = "[";
	for (int i = 0; i < count; ++i) {
		out += (i > 0 ? "," : "") + element;
	}
	return out + "]";
}

// ---- whole-batch errors ----

TEST(ValidateJobBatch, NotJsonIs22032) {
	for (const char *text : {"", "not json", "[", "[{\"kind\": \"a\"}", "[{\"kind\": 'a'}]", "[1,]", "{} {}"}) {
		EXPECT_CORE_ERROR(ValidateJobBatch(text), "22032", "jobs is not valid JSON");
	}
	const auto error = CatchError([] { ValidateJobBatch("[1, ?]"); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->detail, "Parsing failed at byte 5.");
}

TEST(ValidateJobBatch, InvalidUtf8IsNotJson) {
	EXPECT_CORE_ERROR(ValidateJobBatch("[{\"kind\": \"\xFF\"}]"), "22032", "jobs is not valid JSON");
}

TEST(ValidateJobBatch, NotAnArray) {
	for (const char *text : {"{}", "{\"kind\": \"a\"}", "\"x\"", "42", "null", "true"}) {
		EXPECT_CORE_ERROR(ValidateJobBatch(text), "22023", "jobs must be a JSON array");
	}
	const auto error = CatchError([] { ValidateJobBatch("{\"kind\": \"a\"}"); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->detail, "It is a JSON object.");
}

TEST(ValidateJobBatch, Empty) {
	EXPECT_CORE_ERROR(ValidateJobBatch("[]"), "22023", "jobs must not be empty");
	EXPECT_CORE_ERROR(ValidateJobBatch(" [ ] "), "22023", "jobs must not be empty");
}

TEST(ValidateJobBatch, TooMany) {
	const std::string element = R"({"kind":"k"})";
	EXPECT_EQ(ValidateJobBatch(Repeat(element, kMaxBatch)).count, static_cast<std::size_t>(kMaxBatch));
	const auto error = CatchError([&] { ValidateJobBatch(Repeat(element, kMaxBatch + 1)); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->sqlstate, "22023");
	EXPECT_STREQ(error->what(), "jobs has too many elements");
	EXPECT_EQ(error->detail, "It has 10001 elements; the limit is 10000.");
	EXPECT_FALSE(error->hint.empty());
}

// JSON numbers have no size limit and jsonb keeps any: valid in a payload, refused in an integer field
// by that field's own message.
TEST(ValidateJobBatch, NumbersPastADouble) {
	EXPECT_EQ(ValidateJobBatch(R"([{"kind":"k","payload":{"amount":1e999}},{"kind":"k","payload":[-1E400]}])").count,
	          2u);
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind":"k"},{"kind":"k","priority":1e999}])"), "22023",
	                  "jobs[1].priority must be an integer between -2147483648 and 2147483647");
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind":"k","max_attempts":-1e999}])"), "22023",
	                  "jobs[0].max_attempts must be an integer between 1 and 1000");
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind":"k","payload":1e999},])"), "22032", "jobs is not valid JSON");
}

// ---- element errors name the index and field ----

TEST(ValidateJobBatch, ElementMustBeAnObject) {
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind":"a"}, 7])"), "22023", "jobs[1] must be a JSON object");
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([null])"), "22023", "jobs[0] must be a JSON object");
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([[{"kind":"a"}]])"), "22023", "jobs[0] must be a JSON object");
	const auto error = CatchError([] { ValidateJobBatch(R"(["x"])"); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->detail, "It is a JSON string.");
}

TEST(ValidateJobBatch, KindIsRequiredAndNonBlank) {
	const std::string prefix = R"([{"kind":"a"},{"kind":"b"},{"kind":"c"},)";
	EXPECT_CORE_ERROR(ValidateJobBatch(prefix + R"({"payload":{}}])"), "22023",
	                  "jobs[3].kind must be a non-empty string");
	EXPECT_CORE_ERROR(ValidateJobBatch(prefix + R"({"kind":null}])"), "22023",
	                  "jobs[3].kind must be a non-empty string");
	EXPECT_CORE_ERROR(ValidateJobBatch(prefix + R"({"kind":""}])"), "22023", "jobs[3].kind must be a non-empty string");
	EXPECT_CORE_ERROR(ValidateJobBatch(prefix + R"({"kind":" \t"}])"), "22023",
	                  "jobs[3].kind must be a non-empty string");
	EXPECT_CORE_ERROR(ValidateJobBatch(prefix + R"({"kind":5}])"), "22023", "jobs[3].kind must be a non-empty string");
	EXPECT_CORE_ERROR(ValidateJobBatch(prefix + R"({"kind":["a"]}])"), "22023",
	                  "jobs[3].kind must be a non-empty string");

	const auto missing = CatchError([] { ValidateJobBatch(R"([{}])"); });
	ASSERT_TRUE(missing.has_value());
	EXPECT_EQ(missing->detail, "The field is missing.");
	const auto wrong_type = CatchError([] { ValidateJobBatch(R"([{"kind":true}])"); });
	ASSERT_TRUE(wrong_type.has_value());
	EXPECT_EQ(wrong_type->detail, "It is a JSON boolean.");
}

TEST(ValidateJobBatch, NamesAreLimitedInLength) {
	const std::string limit(kMaxNameBytes, 'n');
	const std::string over(kMaxNameBytes + 1, 'n');
	EXPECT_NO_THROW(ValidateJobBatch(R"([{"kind":")" + limit + R"(","tenant":")" + limit + R"("}])"));
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind":")" + over + R"("}])"), "22023", "jobs[0].kind is too long");
	for (const char *field : {"tenant", "actor", "dedup_key"}) {
		const std::string text = R"([{"kind":"k"},{"kind":"k",")" + std::string(field) + R"(":")" + over + R"("}])";
		EXPECT_CORE_ERROR(ValidateJobBatch(text), "22023", "jobs[1]." + std::string(field) + " is too long");
	}
	const auto error = CatchError([&] { ValidateJobBatch(R"([{"kind":")" + over + R"("}])"); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->detail, "It is 201 bytes; the limit is 200 bytes.");
}

TEST(ValidateJobBatch, OptionalNamesMustBeNonBlankStrings) {
	for (const char *field : {"tenant", "actor", "dedup_key"}) {
		const std::string expected = "jobs[0]." + std::string(field) + " must be a non-empty string";
		for (const char *value : {"\"\"", "\"  \"", "1", "{}", "false"}) {
			const std::string text = R"([{"kind":"k",")" + std::string(field) + "\":" + value + "}]";
			EXPECT_CORE_ERROR(ValidateJobBatch(text), "22023", expected);
		}
		EXPECT_NO_THROW(ValidateJobBatch(R"([{"kind":"k",")" + std::string(field) + R"(":null}])"));
		EXPECT_NO_THROW(ValidateJobBatch(R"([{"kind":"k",")" + std::string(field) + R"(":"x"}])"));
	}
}

TEST(ValidateJobBatch, RunAtMustBeATimestampWithZone) {
	const std::string expected = "jobs[0].run_at must be an ISO-8601 timestamp with a time zone";
	for (const char *value :
	     {R"("2026-11-23T10:00:00")", R"("tomorrow")", R"("")", "1732350000", "{}", R"("2026-02-30T10:00:00Z")"}) {
		EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind":"k","run_at":)" + std::string(value) + "}]"), "22023", expected);
	}
	EXPECT_NO_THROW(ValidateJobBatch(R"([{"kind":"k","run_at":"2026-11-23T10:00:00Z"}])"));
	EXPECT_NO_THROW(ValidateJobBatch(R"([{"kind":"k","run_at":"2026-11-23 10:00:00+01:00"}])"));
	EXPECT_NO_THROW(ValidateJobBatch(R"([{"kind":"k","run_at":null}])"));
	const auto error = CatchError([] { ValidateJobBatch(R"([{"kind":"k","run_at":"soon"}])"); });
	ASSERT_TRUE(error.has_value());
	EXPECT_NE(error->hint.find("2026-11-23T10:00:00Z"), std::string::npos);
}

TEST(ValidateJobBatch, PriorityIsAnInt32) {
	const std::string expected = "jobs[0].priority must be an integer between -2147483648 and 2147483647";
	for (const char *value : {"2147483648", "-2147483649", "1.5", "5.0", "1e2", "\"5\"", "true", "18446744073709551615",
	                          "123456789012345678901234567890"}) {
		EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind":"k","priority":)" + std::string(value) + "}]"), "22023",
		                  expected);
	}
	for (const char *value : {"0", "-1", "2147483647", "-2147483648", "-0", "null"}) {
		EXPECT_NO_THROW(ValidateJobBatch(R"([{"kind":"k","priority":)" + std::string(value) + "}]")) << value;
	}
}

TEST(ValidateJobBatch, MaxAttemptsIsBounded) {
	const std::string expected = "jobs[0].max_attempts must be an integer between 1 and 1000";
	for (const char *value : {"0", "-1", "1001", "2.0", "\"3\"", "9223372036854775808"}) {
		EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind":"k","max_attempts":)" + std::string(value) + "}]"), "22023",
		                  expected);
	}
	for (const char *value : {"1", "25", "1000", "null"}) {
		EXPECT_NO_THROW(ValidateJobBatch(R"([{"kind":"k","max_attempts":)" + std::string(value) + "}]")) << value;
	}
}

TEST(ValidateJobBatch, UnknownFieldsAreRejectedWithAHint) {
	const auto error = CatchError([] { ValidateJobBatch(R"([{"kind":"k"},{"kind":"k","queue":"q"}])"); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->sqlstate, "22023");
	EXPECT_STREQ(error->what(), "jobs[1].queue is not an accepted field");
	EXPECT_EQ(error->hint,
	          "Accepted fields are kind, payload, run_at, priority, max_attempts, tenant, actor and dedup_key.");
	// Field names are case-sensitive.
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"Kind":"k"}])"), "22023", "jobs[0].Kind is not an accepted field");
	// A very long unknown key is shortened in the message.
	const auto long_key =
	    CatchError([] { ValidateJobBatch(R"([{"kind":"k",")" + std::string(500, 'z') + R"(":1}])"); });
	ASSERT_TRUE(long_key.has_value());
	EXPECT_LT(std::string(long_key->what()).size(), 120u);
}

TEST(ValidateJobBatch, FirstBadElementIsReported) {
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind":"a"},{"kind":""},{"kind":5}])"), "22023",
	                  "jobs[1].kind must be a non-empty string");
}

// ---- good batches ----

TEST(ValidateJobBatch, GoodBatches) {
	const JobBatchSummary one = ValidateJobBatch(R"([{"kind":"email"}])");
	EXPECT_EQ(one.count, 1u);
	EXPECT_FALSE(one.has_dedup_keys);

	const JobBatchSummary full = ValidateJobBatch(R"([
		{"kind": "email", "payload": {"to": "a@example.com", "n": [1, 2, {"deep": null}]},
		 "run_at": "2026-11-23T10:00:00.123456+05:30", "priority": -5, "max_attempts": 10,
		 "tenant": "acme", "actor": "api", "dedup_key": null},
		{"kind": "sms", "payload": null, "run_at": null, "priority": null, "max_attempts": null,
		 "tenant": null, "actor": null},
		{"kind": "push", "payload": "just a string"},
		{"kind": "push", "payload": 42}
	])");
	EXPECT_EQ(full.count, 4u);
	EXPECT_FALSE(full.has_dedup_keys);
}

TEST(ValidateJobBatch, HasDedupKeys) {
	EXPECT_TRUE(ValidateJobBatch(R"([{"kind":"a","dedup_key":"order-1"}])").has_dedup_keys);
	EXPECT_TRUE(ValidateJobBatch(R"([{"kind":"a"},{"kind":"b","dedup_key":"x"},{"kind":"c"}])").has_dedup_keys);
	EXPECT_FALSE(ValidateJobBatch(R"([{"kind":"a","dedup_key":null},{"kind":"b"}])").has_dedup_keys);
}

TEST(ValidateJobBatch, FieldValuesKeepTheirTypeNotTheirContent) {
	// What is nested in a field's value is not kept for the checks (memory), its type is.
	EXPECT_EQ(ValidateJobBatch(R"([{"kind": "a", "payload": {"kind": 5, "x": [1, {"tenant": ""}]}}])").count, 1u);
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind": "a", "tenant": ["x"]}])"), "22023",
	                  "jobs[0].tenant must be a non-empty string");
	EXPECT_CORE_ERROR(ValidateJobBatch(R"([{"kind": {"name": "a"}}])"), "22023",
	                  "jobs[0].kind must be a non-empty string");
}

TEST(ValidateJobBatch, DeepPayloadIsFine) {
	const std::size_t depth = 100000;
	const std::string payload = std::string(depth, '[') + std::string(depth, ']');
	EXPECT_EQ(ValidateJobBatch(R"([{"kind":"k","payload":)" + payload + "}]").count, 1u);
}

// ---- ISO-8601 ----

TEST(IsIso8601TimestampWithZone, Accepts) {
	for (const char *text : {
	         "2026-11-23T10:00:00Z",
	         "2026-11-23 10:00:00+01:00",
	         "2026-11-23T10:00Z",
	         "2026-11-23T10:00+01",
	         "2026-11-23T10:00:00-05",
	         "2026-11-23T10:00:00.1Z",
	         "2026-11-23T10:00:00.123456789+00:00",
	         "2026-11-23T23:59:59-15:59",
	         "2026-11-23T00:00:00+15:00",
	         "2024-02-29T12:00:00Z", // leap year
	         "2000-02-29T12:00:00Z", // divisible by 400
	         "0001-01-01T00:00:00Z",
	         "9999-12-31T23:59:59Z",
	         "2026-01-31T00:00:00Z",
	         "2026-04-30T00:00:00Z",
	     }) {
		EXPECT_TRUE(IsIso8601TimestampWithZone(text)) << text;
	}
}

TEST(IsIso8601TimestampWithZone, Rejects) {
	for (const char *text : {
	         "",
	         "2026-11-23",                   // no time
	         "2026-11-23T10:00:00",          // no zone
	         "2026-11-23T10Z",               // no minutes
	         "2026-11-23t10:00:00Z",         // lower-case separator
	         "2026-11-23T10:00:00z",         // lower-case zone
	         "2026-11-23_10:00:00Z",         // wrong separator
	         "2026-11-23  10:00:00Z",        // two spaces
	         "2026-11-23T10:00:00 Z",        // space before zone
	         "2026-11-23T10:00:00UTC",       // named zone
	         "2026-11-23T10:00:00+0100",     // offset without colon
	         "2026-11-23T10:00:00+1",        // one-digit offset
	         "2026-11-23T10:00:00+16:00",    // offset out of range
	         "2026-11-23T10:00:00+01:60",    // offset minutes out of range
	         "2026-11-23T10:00:00.Z",        // empty fraction
	         "2026-11-23T10:00:00,5Z",       // comma fraction
	         "2026-11-23T24:00:00Z",         // hour 24
	         "2026-11-23T10:60:00Z",         // minute 60
	         "2026-11-23T10:00:60Z",         // second 60
	         "2026-11-23T1:00:00Z",          // one-digit hour
	         "2026-13-01T10:00:00Z",         // month 13
	         "2026-00-01T10:00:00Z",         // month 0
	         "2026-11-00T10:00:00Z",         // day 0
	         "2026-11-31T10:00:00Z",         // November has 30 days
	         "2026-02-29T10:00:00Z",         // not a leap year
	         "1900-02-29T10:00:00Z",         // divisible by 100, not 400
	         "0000-01-01T00:00:00Z",         // no year zero
	         "26-11-23T10:00:00Z",           // two-digit year
	         "+2026-11-23T10:00:00Z",        // signed year
	         "2026-1-23T10:00:00Z",          // one-digit month
	         "2026/11/23T10:00:00Z",         // slashes
	         " 2026-11-23T10:00:00Z",        // leading space
	         "2026-11-23T10:00:00Z ",        // trailing space
	         "2026-11-23T10:00:00Zx",        // trailing junk
	         "2026-11-23T10:00:00+01:00:00", // offset seconds
	         "2026-11-23T10:00:00Z+01:00",   // two zones
	         "２０２６-11-23T10:00:00Z",     // full-width digits
	     }) {
		EXPECT_FALSE(IsIso8601TimestampWithZone(text)) << text;
	}
}

TEST(IsIso8601TimestampWithZone, EmbeddedNulIsRejected) {
	EXPECT_FALSE(IsIso8601TimestampWithZone(std::string_view("2026-11-23T10:00:00Z\0", 21)));
}

} // namespace
} // namespace dlq::core
