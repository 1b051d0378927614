#include "core/json_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using dlq::core::CheckJsonText;

struct Checked {
	bool valid;
	std::string blanked;
	std::size_t error_position;
};

Checked Check(const std::string &text, const std::string &blank = "0") {
	Checked out{false, "unset", 0};
	out.valid = CheckJsonText(text, blank, &out.blanked, &out.error_position);
	return out;
}

TEST(CheckJsonText, ValidTextIsLeftAlone) {
	const Checked checked = Check(R"({"a": [1, 2.5, -3e10, "x", null, true]})");
	EXPECT_TRUE(checked.valid);
	EXPECT_TRUE(checked.blanked.empty());
}

TEST(CheckJsonText, NumbersPastADoubleAreBlankedInPlace) {
	const Checked checked = Check(R"({"a": 1e400, "b": [-1E999, 123456789012345678901234567890]})", "0.5");
	EXPECT_TRUE(checked.valid);
	EXPECT_EQ(checked.blanked, R"({"a": 0.5  , "b": [0.5   , 123456789012345678901234567890]})");
	const Checked bare = Check("1e309");
	EXPECT_TRUE(bare.valid);
	EXPECT_EQ(bare.blanked, "0    ");
}

TEST(CheckJsonText, InvalidTextSaysWhere) {
	for (const std::string text : {"", "{", "[1,]", "[1e400,]", "[1e400 x]", "{\"a\": 1e400"}) {
		const Checked checked = Check(text);
		EXPECT_FALSE(checked.valid) << text;
	}
	EXPECT_EQ(Check("[1, 2, x]").error_position, 8u);
	EXPECT_EQ(Check("[1e400, x]").error_position, 9u); // positions are the original text's
}

// Only whole JSON numbers are blanked: text that is not one stays invalid.
TEST(CheckJsonText, OnlyWholeNumbersAreBlanked) {
	for (const std::string text : {"1e4001e4001", "[1e400.5]", "[01e400]", "[1e400-]", "[--1e400]", "\"1e400"}) {
		EXPECT_FALSE(Check(text).valid) << text;
	}
	const Checked in_string = Check(R"(["1e400", 1e400, "\"1e400"])");
	EXPECT_TRUE(in_string.valid);
	EXPECT_EQ(in_string.blanked, R"(["1e400", 0    , "\"1e400"])");
}

// Linear: many such numbers are blanked in one pass, not one re-parse each.
TEST(CheckJsonText, ManyNumbersInOnePass) {
	std::string text = "[";
	for (int i = 0; i < 20000; i++)
		text += (i ? ",1e400" : "1e400");
	text += "]";
	const Checked checked = Check(text);
	EXPECT_TRUE(checked.valid);
	EXPECT_EQ(checked.blanked.size(), text.size());
}

TEST(CheckJsonText, ABlankLongerThanTheNumberIsNotUsed) {
	EXPECT_FALSE(Check("1e309", "0.12345").valid);
}

} // namespace
