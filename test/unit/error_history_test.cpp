#include "core/error_history.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "expect_error.hpp"

namespace dlq::core {
namespace {

const std::string kMark = "...[truncated]"; // 14 bytes

AttemptRecord Record(std::string error, std::optional<std::string> details = std::nullopt) {
	return AttemptRecord{3, "2026-11-23 10:00:00+00", "worker-1", std::move(error), std::move(details)};
}

bool EndsWith(const std::string &text, const std::string &suffix) {
	return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(AttemptRecordJson, CompactObjectWithKeysInOrder) {
	EXPECT_EQ(AttemptRecordJson(Record("boom")),
	          R"({"attempt":3,"at":"2026-11-23 10:00:00+00","worker":"worker-1","error":"boom","details":null})");

	const auto parsed = nlohmann::ordered_json::parse(AttemptRecordJson(Record("boom", R"({"code": 7})")));
	std::vector<std::string> keys;
	for (const auto &item : parsed.items()) {
		keys.push_back(item.key());
	}
	EXPECT_EQ(keys, (std::vector<std::string>{"attempt", "at", "worker", "error", "details"}));
	EXPECT_EQ(parsed["attempt"], 3);
	EXPECT_EQ(parsed["details"]["code"], 7);
}

TEST(AttemptRecordJson, NegativeAndZeroAttempts) {
	AttemptRecord record = Record("x");
	record.attempt = 0;
	EXPECT_EQ(nlohmann::json::parse(AttemptRecordJson(record))["attempt"], 0);
	record.attempt = -2;
	EXPECT_EQ(nlohmann::json::parse(AttemptRecordJson(record))["attempt"], -2);
}

TEST(AttemptRecordJson, DetailsAreMinifiedAndKeptExactly) {
	const std::string details = "{\n  \"a\" : [1, 2.50, 1e3],\n\t\"big\": 123456789012345678901234567890,\r\n"
	                            "  \"text\": \"two  spaces, a \\\" quote\\\\ and \\u00e9\" }";
	const std::string json = AttemptRecordJson(Record("e", details));
	EXPECT_TRUE(EndsWith(json, R"("details":{"a":[1,2.50,1e3],"big":123456789012345678901234567890,)"
	                           R"("text":"two  spaces, a \" quote\\ and \u00e9"}})"))
	    << json;
	EXPECT_TRUE(nlohmann::json::accept(json));
}

TEST(AttemptRecordJson, ScalarAndEmptyContainerDetails) {
	EXPECT_TRUE(EndsWith(AttemptRecordJson(Record("e", "42")), R"("details":42})"));
	EXPECT_TRUE(EndsWith(AttemptRecordJson(Record("e", " \"text\" ")), R"("details":"text"})"));
	EXPECT_TRUE(EndsWith(AttemptRecordJson(Record("e", "[ ]")), R"("details":[]})"));
	EXPECT_TRUE(EndsWith(AttemptRecordJson(Record("e", "null")), R"("details":null})"));
	EXPECT_TRUE(EndsWith(AttemptRecordJson(Record("e", "true")), R"("details":true})"));
}

// JSON numbers have no size limit, and PostgreSQL's jsonb keeps any: one past a double's range is kept as
// written, and the text after it is still checked.
TEST(AttemptRecordJson, NumbersPastADoubleAreKeptAsWritten) {
	EXPECT_TRUE(EndsWith(AttemptRecordJson(Record("e", "1e400")), R"("details":1e400})"));
	EXPECT_TRUE(EndsWith(AttemptRecordJson(Record("e", R"({"amount": 1e400, "n": [-1E999, 2, 1e400]})")),
	                     R"("details":{"amount":1e400,"n":[-1E999,2,1e400]}})"));
	EXPECT_CORE_ERROR(AttemptRecordJson(Record("e", "[1e400,]")), "22032", "details is not valid JSON");
	EXPECT_CORE_ERROR(AttemptRecordJson(Record("e", "[1e400 x]")), "22032", "details is not valid JSON");
	EXPECT_CORE_ERROR(AttemptRecordJson(Record("e", "1e400e1")), "22032", "details is not valid JSON");
}

TEST(AttemptRecordJson, InvalidDetailsAre22032) {
	const std::vector<std::string> invalid = {
	    "",          "   ", "{",   "}",        "{'a': 1}",       "nope",       "{} x",    "[1,]",
	    "{\"a\" 1}", "01",  "NaN", "\"\xFF\"", "\"unterminated", "{\"a\":1,}", "[1] [2]",
	};
	for (const std::string &details : invalid) {
		EXPECT_CORE_ERROR(AttemptRecordJson(Record("e", details)), "22032", "details is not valid JSON");
	}
}

TEST(AttemptRecordJson, InvalidDetailsDetailGivesTheByte) {
	const auto error = test_support::CatchError([] { (void)AttemptRecordJson(Record("e", "[1, x]")); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->detail, "Parsing failed at byte 5.");
}

TEST(AttemptRecordJson, DeeplyNestedDetailsDoNotExhaustTheStack) {
	const std::size_t depth = 200000;
	const std::string details = std::string(depth, '[') + std::string(depth, ']');
	const std::string json = AttemptRecordJson(Record("e", details));
	EXPECT_TRUE(EndsWith(json, "\"details\":" + details + "}"));
	EXPECT_CORE_ERROR(AttemptRecordJson(Record("e", std::string(depth, '['))), "22032", "details is not valid JSON");
}

TEST(AttemptRecordJson, StringsAreEscaped) {
	AttemptRecord record = Record("say \"hi\"\\ then\nnewline\ttab\x01 bell é 🎉");
	record.worker = "w\"1";
	record.at = "a\\b";
	EXPECT_EQ(AttemptRecordJson(record),
	          "{\"attempt\":3,\"at\":\"a\\\\b\",\"worker\":\"w\\\"1\","
	          "\"error\":\"say \\\"hi\\\"\\\\ then\\nnewline\\ttab\\u0001 bell é 🎉\",\"details\":null}");
	const auto parsed = nlohmann::json::parse(AttemptRecordJson(record));
	EXPECT_EQ(parsed["error"], record.error);
	EXPECT_EQ(parsed["worker"], record.worker);
	EXPECT_EQ(parsed["at"], record.at);
}

TEST(AttemptRecordJson, InvalidUtf8IsReplacedNotFatal) {
	const std::string json = AttemptRecordJson(Record("bad \xFF byte"));
	EXPECT_NE(json.find("\"error\":\"bad \xEF\xBF\xBD byte\""), std::string::npos) << json;
	EXPECT_TRUE(nlohmann::json::accept(json));
}

TEST(AttemptRecordJson, LongErrorsAreTruncated) {
	const std::string long_error(kMaxErrorBytes * 2, 'x');
	const auto parsed = nlohmann::json::parse(AttemptRecordJson(Record(long_error)));
	const std::string error = parsed["error"];
	EXPECT_EQ(error.size(), kMaxErrorBytes);
	EXPECT_TRUE(EndsWith(error, kMark));
	EXPECT_EQ(error.substr(0, 10), "xxxxxxxxxx");

	const std::string exact(kMaxErrorBytes, 'y');
	EXPECT_EQ(nlohmann::json::parse(AttemptRecordJson(Record(exact)))["error"], exact);
}

TEST(TruncateMessage, ShortMessagesAreUnchanged) {
	EXPECT_EQ(TruncateMessage("", 10), "");
	EXPECT_EQ(TruncateMessage("hello", 10), "hello");
	EXPECT_EQ(TruncateMessage(std::string(20, 'a'), 20), std::string(20, 'a'));
	EXPECT_EQ(TruncateMessage("short"), "short");
}

TEST(TruncateMessage, CutsAndMarksWithinTheLimit) {
	const std::string result = TruncateMessage(std::string(100, 'a'), 30);
	EXPECT_EQ(result, std::string(16, 'a') + kMark);
	EXPECT_EQ(result.size(), 30u);
	EXPECT_EQ(TruncateMessage(std::string(21, 'a'), 20), std::string(6, 'a') + kMark);
}

TEST(TruncateMessage, NeverSplitsAMultibyteCharacter) {
	// "é" is 2 bytes, "€" 3, "🎉" 4: every offset puts a different byte of a character at the cut.
	for (const std::string character : {"é", "€", "🎉"}) {
		for (std::size_t prefix = 0; prefix < 4; ++prefix) {
			std::string message(prefix, 'p');
			for (int i = 0; i < 20; ++i) {
				message += character;
			}
			const std::size_t limit = 14 + 10;
			const std::string result = TruncateMessage(message, limit);
			ASSERT_TRUE(EndsWith(result, kMark));
			const std::string kept = result.substr(0, result.size() - kMark.size());
			EXPECT_LE(result.size(), limit);
			EXPECT_GT(kept.size() + character.size(), 10u) << "cut more than one character";
			// The kept part is the prefix plus whole characters.
			ASSERT_GE(kept.size(), prefix);
			EXPECT_EQ((kept.size() - prefix) % character.size(), 0u) << character << " prefix " << prefix;
			EXPECT_EQ(message.compare(0, kept.size(), kept), 0);
		}
	}
}

TEST(TruncateMessage, KeepsTheWholeCharacterWhenItEndsExactlyAtTheCut) {
	// 8 ASCII bytes then "é" ends exactly at byte 10, the cut point for a limit of 24.
	const std::string message = std::string(8, 'a') + "é" + std::string(50, 'b');
	EXPECT_EQ(TruncateMessage(message, 24), std::string(8, 'a') + "é" + kMark);
}

TEST(TruncateMessage, LimitTooSmallForTheMark) {
	EXPECT_EQ(TruncateMessage("hello world, this is long", 5), "hello");
	EXPECT_EQ(TruncateMessage("héllo", 2), "h"); // cut would split é
	EXPECT_EQ(TruncateMessage("hello", 0), "");
	EXPECT_EQ(TruncateMessage(std::string(30, 'a'), kMark.size()), kMark);
}

TEST(TruncateMessage, InvalidUtf8StillRespectsTheLimit) {
	const std::string message(100, '\x80');
	const std::string result = TruncateMessage(message, 50);
	EXPECT_LE(result.size(), 50u);
	EXPECT_GE(result.size(), 47u);
	EXPECT_TRUE(EndsWith(result, kMark));
}

} // namespace
} // namespace dlq::core
