#include "core/fingerprint.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace dlq::core {
namespace {

struct Case {
	const char *input;
	const char *expected;
};

void ExpectAll(const std::vector<Case> &cases) {
	for (const Case &c : cases) {
		EXPECT_EQ(Fingerprint(c.input), c.expected) << "input: " << c.input;
	}
}

bool IsValidUtf8(const std::string &text) {
	std::size_t i = 0;
	while (i < text.size()) {
		const unsigned char lead = static_cast<unsigned char>(text[i]);
		const std::size_t length = lead < 0x80           ? 1
		                           : (lead >> 5) == 0x6  ? 2
		                           : (lead >> 4) == 0xE  ? 3
		                           : (lead >> 3) == 0x1E ? 4
		                                                 : 0;
		if (length == 0 || i + length > text.size()) {
			return false;
		}
		for (std::size_t k = 1; k < length; ++k) {
			if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
				return false;
			}
		}
		i += length;
	}
	return true;
}

TEST(Fingerprint, TheHeaderExampleGroupsTogether) {
	EXPECT_EQ(Fingerprint("timeout after 30s on order 1234"), "timeout after <n>s on order <n>");
	EXPECT_EQ(Fingerprint("timeout after 30s on order 1234"), Fingerprint("timeout after 45s on order 5678"));
}

TEST(Fingerprint, EmptyAndBlank) {
	ExpectAll({{"", ""}, {" ", ""}, {" \t\r\n ", ""}});
}

TEST(Fingerprint, WhitespaceIsCollapsedAndTrimmed) {
	ExpectAll({
	    {"  connection   refused  ", "connection refused"},
	    {"line one\nline two\r\n\tindented", "line one line two indented"},
	    {"a\v\fb", "a b"},
	    {"tab\there", "tab here"},
	});
}

TEST(Fingerprint, Uuids) {
	ExpectAll({
	    {"job 550e8400-e29b-41d4-a716-446655440000 failed", "job <uuid> failed"},
	    {"job 550E8400-E29B-41D4-A716-446655440000 failed", "job <uuid> failed"},
	    {"id=550e8400-e29b-41d4-a716-446655440000,", "id=<uuid>,"},
	    {"(deadbeef-0000-0000-0000-000000000000)", "(<uuid>)"},
	    {"550e8400-e29b-41d4-a716-446655440000", "<uuid>"},
	    // Not a UUID: a group is too short, or the value runs into a word.
	    {"550e8400-e29b-41d4-a716-44665544000", "<hex>-e29b-<n>d4-a716-<n>"},
	    {"550e8400-e29b-41d4-a716-446655440000xyz", "<hex>-e29b-<n>d4-a716-<n>xyz"},
	});
}

TEST(Fingerprint, Timestamps) {
	ExpectAll({
	    {"at 2026-11-23T10:00:00Z", "at <ts>"},
	    {"at 2026-11-23T10:00:00.123456+01:00 retry", "at <ts> retry"},
	    {"at 2026-11-23 10:00:00+00", "at <ts>"},
	    {"at 2026-11-23 10:00:00.5-0530.", "at <ts>."},
	    {"at 2026-11-23 10:00", "at <ts>"},
	    {"on 2026-11-23, again", "on <ts>, again"},
	    {"between 2026-11-23 and 2026-11-24", "between <ts> and <ts>"},
	    {"from 2026-11-23T10:00:00Z to 2026-11-23T11:00:00Z", "from <ts> to <ts>"},
	    // A date followed by something that is not a time keeps just the date.
	    {"2026-11-23 1:00", "<ts> <n>:<n>"},
	    {"2026-11-23T10", "<ts>T10"},
	    // Not a date.
	    {"2026-11-234", "<n>-<n>-<n>"},
	    {"v2026-11-23", "v2026-<n>-<n>"},
	});
}

TEST(Fingerprint, QuotedValues) {
	ExpectAll({
	    {"relation \"public.orders\" does not exist", "relation <str> does not exist"},
	    {"invalid input syntax for type integer: 'abc'", "invalid input syntax for type integer: <str>"},
	    {"key 'a' and key \"b\"", "key <str> and key <str>"},
	    {"empty '' value", "empty <str> value"},
	    {"quoted uuid '550e8400-e29b-41d4-a716-446655440000'", "quoted uuid <str>"},
	    {"say 'it\\'s' ok", "say <str> ok"},
	    {"name 'o''brien' here", "name <str> here"},
	    {"'o'brien' here", "<str> here"},
	    {"value \"multi\nline\" end", "value <str> end"},
	});
}

TEST(Fingerprint, ApostrophesAndStrayQuotesStayText) {
	ExpectAll({
	    {"can't connect to 'db-1'", "can't connect to <str>"},
	    {"don't retry", "don't retry"},
	    {"it''s", "it''s"},
	    {"unterminated 'abc and 'def", "unterminated 'abc and 'def"},
	    {"5\" screen", "<n>\" screen"},
	    {"l'été 'x'", "l'été <str>"},
	});
}

TEST(Fingerprint, HexIds) {
	ExpectAll({
	    {"address 0x7ffd5e8c", "address <hex>"},
	    {"address 0XDEADBEEF and 0x1", "address <hex> and <hex>"},
	    {"commit a1b2c3d4e5f6", "commit <hex>"},
	    {"trace cafe1234", "trace <hex>"},
	    {"trace_id=ABCDEF0123456789", "trace_id=<hex>"},
	    // Letters only: a word, not an id.
	    {"deadbeef", "deadbeef"},
	    {"accessed facade", "accessed facade"},
	    // Too short, or glued to a word on either side.
	    {"abc123", "abc123"},
	    {"x1234abcd", "x1234abcd"},
	    {"deadbeef12xyz", "deadbeef12xyz"},
	    {"0x", "<n>x"},
	    {"0xZZ", "<n>xZZ"},
	    // A long decimal is a number, grouped with short ones, not a hex id.
	    {"order 12345678", "order <n>"},
	    {"delta -12345678", "delta <n>"},
	    // Seven digits and letters: a short git hash, or an id that starts with digits.
	    {"commit 3f2a9c1 failed", "commit <hex> failed"},
	    {"queue id 54A4183", "queue id <hex>"},
	    {"abc123 and abc1234", "abc123 and <hex>"},
	    // ... but a number with an exponent stays a number.
	    {"value 1e10000", "value <n>"},
	    {"value 12E4567", "value <n>"},
	    {"id 550e8400", "id <hex>"},
	});
}

TEST(Fingerprint, EmailAddresses) {
	ExpectAll({
	    {"450 4.2.0 <user1088@greylist.example>: greylisted", "<n> <n> <<email>>: greylisted"},
	    {"bounce from first.last+tag@mail.example.co.uk.", "bounce from <email>."},
	    {"to=a-b_c%d@x-y.example, retry", "to=<email>, retry"},
	    // Not addresses: no dot in the domain, nothing before the @, glued on the right.
	    {"user@localhost", "user@localhost"},
	    {"@example.com", "@example.com"},
	    {"a@b.c\xc3\xa9", "a@b.c\xc3\xa9"},
	    {"twitter @handle", "twitter @handle"},
	    // A version or an address after an @ is not a domain; a leading dot is not part of the address.
	    {"npm i lodash@4.17.21", "npm i lodash@<n>"},
	    {"ssh deploy@10.0.0.1 failed", "ssh deploy@<n> failed"},
	    {"..john@x.com", "..<email>"},
	});
	EXPECT_EQ(Fingerprint("450 <user1088@greylist.example>: greylisted"),
	          Fingerprint("450 <someone.else@other.example.org>: greylisted"));
}

TEST(Fingerprint, Numbers) {
	ExpectAll({
	    {"order 1234", "order <n>"},
	    {"x=-5 y=+7", "x=<n> y=<n>"},
	    {"range 1-5", "range <n>-<n>"},
	    {"pi is 3.14159", "pi is <n>"},
	    {"tiny 1.5e-3 big 2E10", "tiny <n> big <n>"},
	    {"host 10.0.0.1:5432", "host <n>:<n>"},
	    {"version 1.2.3", "version <n>"},
	    {"took 250ms", "took <n>ms"},
	    {"end of sentence 42.", "end of sentence <n>."},
	    {"1,234 rows", "<n>,<n> rows"},
	    {"(42)", "(<n>)"},
	    {"a - 5", "a - <n>"},
	    {"a +5", "a <n>"},
	    {"C++11 and --5", "C++<n> and --<n>"},
	    {"3rd try", "<n>rd try"},
	    {"12e", "<n>e"},
	});
}

TEST(Fingerprint, DigitsGluedToALetterOnTheLeftAreKept) {
	ExpectAll({
	    {"encoding utf8 not supported", "encoding utf8 not supported"},
	    {"s3 bucket down", "s3 bucket down"},
	    {"error e42", "error e42"},
	    {"ipv4 and ipv6", "ipv4 and ipv6"},
	    {"sha256 mismatch", "sha256 mismatch"},
	    {"order1234", "order1234"},
	    {"running v1.2.3 of python3.11", "running v1.2.3 of python3.11"},
	    {"http2.", "http2."},
	});
}

TEST(Fingerprint, SeparatorsDoNotGlue) {
	ExpectAll({
	    {"job_1234 failed", "job_<n> failed"},
	    {"worker-3 died", "worker-<n> died"},
	    {"queue/7", "queue/<n>"},
	    {"partition_2024_11", "partition_<n>_<n>"},
	    {"[12]", "[<n>]"},
	});
}

TEST(Fingerprint, NonAsciiTextIsKeptIntact) {
	ExpectAll({
	    {"échec de la commande 1234", "échec de la commande <n>"},
	    {"заказ 42 не найден", "заказ <n> не найден"},
	    {"注文123失败", "注文123失败"}, // digits glued to CJK letters stay
	    {"emoji 🎉 42", "emoji 🎉 <n>"},
	    {"café42", "café42"},
	});
}

TEST(Fingerprint, RealisticMessagesGroup) {
	const std::vector<std::pair<const char *, const char *>> same = {
	    {"could not connect to server: Connection refused (10.0.0.12:5432) after 3 attempts",
	     "could not connect to server: Connection refused (10.0.0.7:6543) after 12 attempts"},
	    {"HTTP 503 from https://api.example.com/v1/orders/123",
	     "HTTP 502 from https://api.example.com/v1/orders/98765"},
	    {"duplicate key value violates unique constraint \"orders_pkey\": Key (id)=(17) already exists",
	     "duplicate key value violates unique constraint \"orders_pkey\": Key (id)=(4242) already exists"},
	    {"lock timeout on job 550e8400-e29b-41d4-a716-446655440000 at 2026-11-23T10:00:00Z",
	     "lock timeout on job 00000000-0000-0000-0000-000000000001 at 2025-01-01 00:00:00+00"},
	};
	for (const auto &[first, second] : same) {
		EXPECT_EQ(Fingerprint(first), Fingerprint(second)) << first;
	}
	EXPECT_EQ(Fingerprint(same[1].first), "HTTP <n> from https://api.example.com/v1/orders/<n>");
	EXPECT_NE(Fingerprint("connection refused"), Fingerprint("connection reset"));
}

TEST(Fingerprint, IsDeterministic) {
	const std::string message = "job 'x' failed at 2026-11-23T10:00:00Z with code 0x1f after 3.5s";
	const std::string first = Fingerprint(message);
	for (int i = 0; i < 10; ++i) {
		EXPECT_EQ(Fingerprint(message), first);
	}
	EXPECT_EQ(first, "job <str> failed at <ts> with code <hex> after <n>s");
}

TEST(Fingerprint, IsCutToTheLimit) {
	const std::string long_message(1000, 'a');
	EXPECT_EQ(Fingerprint(long_message), std::string(kMaxFingerprintBytes, 'a'));
	std::string words;
	for (int i = 0; i < 100; ++i) {
		words += "word ";
	}
	const std::string cut = Fingerprint(words);
	EXPECT_LE(cut.size(), kMaxFingerprintBytes);
	EXPECT_NE(cut.back(), ' ');
	EXPECT_EQ(cut.substr(0, 10), "word word ");
}

TEST(Fingerprint, CutNeverSplitsAMultibyteCharacter) {
	// Shift a run of 2-, 3- and 4-byte characters across the limit at every offset.
	for (const std::string character : {"é", "€", "🎉"}) {
		for (std::size_t offset = 0; offset < 4; ++offset) {
			std::string message(offset, 'x');
			while (message.size() < 3 * kMaxFingerprintBytes) {
				message += character;
			}
			const std::string result = Fingerprint(message);
			EXPECT_LE(result.size(), kMaxFingerprintBytes);
			EXPECT_GT(result.size(), kMaxFingerprintBytes - 4);
			EXPECT_TRUE(IsValidUtf8(result)) << "character " << character << " offset " << offset;
		}
	}
}

TEST(Fingerprint, InvalidUtf8DoesNotCrash) {
	const std::string message = "bad \xFF\xFE bytes \x80\x80\x80\x80 42 \xC3";
	EXPECT_EQ(Fingerprint(message), "bad \xFF\xFE bytes \x80\x80\x80\x80 <n> \xC3");
	std::string continuation_only(500, '\x80');
	EXPECT_LE(Fingerprint(continuation_only).size(), kMaxFingerprintBytes);
	EXPECT_GE(Fingerprint(continuation_only).size(), kMaxFingerprintBytes - 3);
}

TEST(Fingerprint, EmbeddedNulIsOrdinaryText) {
	const std::string message("a\0b 7", 5);
	EXPECT_EQ(Fingerprint(message), std::string("a\0b <n>", 7));
}

TEST(Fingerprint, PathologicalInput) {
	// Inputs that would make a naive backtracking or rescanning matcher quadratic (how long they take is
	// measured by bench/fingerprint_scaling.sh, not here): each still gives a fingerprint within the limit.
	std::vector<std::string> inputs;
	std::string quotes;
	std::string hexes;
	std::string digits(200000, '7');
	digits += 'g';
	for (int i = 0; i < 50000; ++i) {
		quotes += " 'a";
		hexes += "deadbeef ";
	}
	inputs.push_back(quotes);
	inputs.push_back(hexes);
	inputs.push_back(digits);
	inputs.push_back(std::string(200000, '\''));
	inputs.push_back(std::string(200000, ' ') + "x");
	std::string dotted;
	std::string ats;
	for (int i = 0; i < 100000; ++i) {
		dotted += "a.";
		ats += "a@";
	}
	inputs.push_back(dotted);
	inputs.push_back(ats);
	for (const std::string &input : inputs) {
		EXPECT_LE(Fingerprint(input).size(), kMaxFingerprintBytes);
	}
	EXPECT_EQ(Fingerprint(std::string(200000, ' ') + "x"), "x");
}

} // namespace
} // namespace dlq::core
