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

TEST(CheckJsonText, ABlankLongerThanTheNumberIsNotUsed) {
	EXPECT_FALSE(Check("1e309", "0.12345").valid);
}

} // namespace
