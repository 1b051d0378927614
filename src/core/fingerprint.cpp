#include "core/fingerprint.hpp"

#include <cstddef>
#include <string>

namespace dlq::core {

// A single left-to-right scan. At every position where a token may start (see AtBoundary) the matchers are
// tried in the documented order: e-mail address, UUID, timestamp, quoted value, hex id, number; the first that matches
// is replaced by its placeholder and the scan continues after it. Everything else is copied, with
// whitespace runs collapsed. Each matcher looks only forward from its position, and quoted values
// remember a failed search (see Scanner::TryQuoted), so the scan is linear in the input size.
//
// Rules chosen for tokens embedded in words:
//  - a token starts only where the previous byte is not "glue" (ASCII letter or digit, or any non-ASCII
//    byte, i.e. part of a letter in another script). Runs of glue are copied as one word, so digits
//    glued to a letter on their left stay: "utf8", "s3", "e42", "ipv4", "order1234" are kept. A word
//    ending in a digit keeps its dotted continuation too ("v1.2.3", "python3.11").
//  - '_', '-', '.', ':', '=', '/', brackets etc. separate: "job_1234" -> "job_<n>", "worker-3" -> "worker-<n>".
//  - a token may be followed by anything except glue for UUIDs and hex ids, and a digit for timestamps
//    ("30s" -> "<n>s", but the hex run in "deadbeef12xyz" is part of a word and is kept).
//  - a run of >= 7 hex digits (a short git hash) is a hex id only when it mixes digits and letters, so a
//    long decimal stays a number ("order 12345678" -> "order <n>" like "order 1234"), and one of seven is
//    not a number with an exponent ("1e10000").
//  - an e-mail address is local@domain, the local part of letters, digits and ._%+- (not starting with a
//    dot), the domain of dotted labels (at least two, the last not all digits nor '-'); a dot ending the
//    domain ends the sentence, not the address.
//  - a sign belongs to a number only when neither glue nor another sign precedes it: "x=-5" -> "x=<n>",
//    "1-5" -> "<n>-<n>", "C++11" -> "C++<n>".
//  - numbers: digits, then any number of ".digits" (decimals, versions, IPv4: "10.0.0.1" -> "<n>"), then
//    an optional exponent ("1.5e-3").
//  - quotes open only where not glued on the left ("can't" is not a quote) nor preceded by the same quote,
//    and close at the first same quote that is not glued on the right; a backslash escapes the next byte
//    and a doubled quote ('') stands for itself. An unmatched quote is copied as text, and so is every
//    later quote of that kind.

namespace {

constexpr std::string_view kEmail = "<email>";
constexpr std::string_view kUuid = "<uuid>";
constexpr std::string_view kTimestamp = "<ts>";
constexpr std::string_view kString = "<str>";
constexpr std::string_view kHex = "<hex>";
constexpr std::string_view kNumber = "<n>";

bool IsDigit(unsigned char c) {
	return c >= '0' && c <= '9';
}

bool IsHexDigit(unsigned char c) {
	return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsAsciiLetter(unsigned char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsGlue(unsigned char c) {
	return IsAsciiLetter(c) || IsDigit(c) || c >= 0x80;
}

bool IsSpace(unsigned char c) {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool IsUtf8Continuation(unsigned char c) {
	return (c & 0xC0) == 0x80;
}

// Read-only view with bounds-checked byte access: out of range reads as 0, which matches no class above.
class Text {
public:
	explicit Text(std::string_view text) : text_(text) {
	}

	unsigned char At(std::size_t pos) const {
		return pos < text_.size() ? static_cast<unsigned char>(text_[pos]) : 0;
	}

	std::size_t Size() const {
		return text_.size();
	}

	std::string_view Slice(std::size_t pos, std::size_t length) const {
		return text_.substr(pos, length);
	}

	// Number of consecutive bytes from pos satisfying predicate.
	template <typename Predicate>
	std::size_t Run(std::size_t pos, Predicate predicate) const {
		std::size_t end = pos;
		while (end < text_.size() && predicate(At(end))) {
			++end;
		}
		return end - pos;
	}

	// True when `count` digits start at pos.
	bool DigitsAt(std::size_t pos, std::size_t count) const {
		return Run(pos, IsDigit) >= count;
	}

private:
	std::string_view text_;
};

// ---- matchers: each returns the token length at pos, or 0 -------------------------------------------------

// 8-4-4-4-12 hex digits, either case.
std::size_t MatchUuid(const Text &text, std::size_t pos) {
	static constexpr std::size_t kGroups[] = {8, 4, 4, 4, 12};
	std::size_t end = pos;
	for (std::size_t group = 0; group < 5; ++group) {
		if (group > 0 && text.At(end++) != '-') {
			return 0;
		}
		if (text.Run(end, IsHexDigit) < kGroups[group]) {
			return 0;
		}
		end += kGroups[group];
	}
	return IsGlue(text.At(end)) ? 0 : end - pos;
}

// Length of "HH:MM[:SS[.frac]]" at pos, or 0.
std::size_t MatchClock(const Text &text, std::size_t pos) {
	if (!text.DigitsAt(pos, 2) || text.At(pos + 2) != ':' || !text.DigitsAt(pos + 3, 2)) {
		return 0;
	}
	std::size_t end = pos + 5;
	if (text.At(end) == ':' && text.DigitsAt(end + 1, 2)) {
		end += 3;
		if (text.At(end) == '.' && IsDigit(text.At(end + 1))) {
			end += 1 + text.Run(end + 1, IsDigit);
		}
	}
	return end - pos;
}

// Length of "Z" or "±HH[[:]MM]" at pos, or 0.
std::size_t MatchZone(const Text &text, std::size_t pos) {
	const unsigned char c = text.At(pos);
	if (c == 'Z') {
		return IsGlue(text.At(pos + 1)) ? 0 : 1;
	}
	if ((c != '+' && c != '-') || !text.DigitsAt(pos + 1, 2)) {
		return 0;
	}
	if (text.At(pos + 3) == ':' && text.DigitsAt(pos + 4, 2)) {
		return 6;
	}
	return text.DigitsAt(pos + 3, 2) ? 5 : 3;
}

// YYYY-MM-DD, optionally followed by [T ]clock and a zone. Shapes only, no range checks: the goal is
// grouping, not validation. Not followed by a digit ("2026-11-234" is not a date).
std::size_t MatchTimestamp(const Text &text, std::size_t pos) {
	if (!text.DigitsAt(pos, 4) || text.At(pos + 4) != '-' || !text.DigitsAt(pos + 5, 2) || text.At(pos + 7) != '-' ||
	    !text.DigitsAt(pos + 8, 2)) {
		return 0;
	}
	std::size_t end = pos + 10;
	const unsigned char separator = text.At(end);
	if (separator == 'T' || separator == ' ') {
		if (const std::size_t clock = MatchClock(text, end + 1); clock > 0) {
			end += 1 + clock;
			end += MatchZone(text, end);
		}
	}
	return IsDigit(text.At(end)) ? 0 : end - pos;
}

// 0x followed by hex digits, or a run of >= 7 hex digits mixing digits and letters; not glued on the right.
std::size_t MatchHex(const Text &text, std::size_t pos) {
	if (text.At(pos) == '0' && (text.At(pos + 1) == 'x' || text.At(pos + 1) == 'X')) {
		const std::size_t digits = text.Run(pos + 2, IsHexDigit);
		if (digits > 0 && !IsGlue(text.At(pos + 2 + digits))) {
			return 2 + digits;
		}
	}
	const std::size_t run = text.Run(pos, IsHexDigit);
	if (run < 7 || IsGlue(text.At(pos + run))) {
		return 0;
	}
	// Seven of them shaped digits, e, digits: a number with an exponent ("1e10000"). (From eight on, the
	// shape is more often a hex id's: "550e8400".)
	const std::size_t mantissa = text.Run(pos, IsDigit);
	if (run == 7 && mantissa > 0 && (text.At(pos + mantissa) == 'e' || text.At(pos + mantissa) == 'E') &&
	    mantissa + 1 + text.Run(pos + mantissa + 1, IsDigit) == run) {
		return 0;
	}
	// An id mixes digits and letters: all letters is a word ("deadbeef", "accede"), all digits a number
	// (so "order 12345678" groups with "order 1234").
	bool has_digit = false;
	bool has_letter = false;
	for (std::size_t i = pos; i < pos + run; ++i) {
		has_digit = has_digit || IsDigit(text.At(i));
		has_letter = has_letter || !IsDigit(text.At(i));
	}
	return has_digit && has_letter ? run : 0;
}

// [sign] digits (.digits)* [e[sign]digits]
std::size_t MatchNumber(const Text &text, std::size_t pos) {
	std::size_t end = pos;
	if (text.At(end) == '+' || text.At(end) == '-') {
		++end;
	}
	const std::size_t digits = text.Run(end, IsDigit);
	if (digits == 0) {
		return 0;
	}
	end += digits;
	while (text.At(end) == '.' && IsDigit(text.At(end + 1))) {
		end += 1 + text.Run(end + 1, IsDigit);
	}
	if (text.At(end) == 'e' || text.At(end) == 'E') {
		const std::size_t sign = (text.At(end + 1) == '+' || text.At(end + 1) == '-') ? 1 : 0;
		if (const std::size_t exponent = text.Run(end + 1 + sign, IsDigit); exponent > 0) {
			end += 1 + sign + exponent;
		}
	}
	return end - pos;
}

// ---- the scanner -------------------------------------------------------------------------------------------

class Scanner {
public:
	explicit Scanner(std::string_view message) : text_(message) {
	}

	std::string Run() {
		// Once the output is longer than the limit its kept prefix can no longer change, so stop early:
		// huge messages cost no more than short ones.
		while (pos_ < text_.Size() && out_.size() <= kMaxFingerprintBytes) {
			Step();
		}
		return Finish();
	}

private:
	void Step() {
		const unsigned char c = text_.At(pos_);
		if (IsSpace(c)) {
			pending_space_ = !out_.empty();
			++pos_;
			return;
		}
		if (AtBoundary() && TryToken()) {
			return;
		}
		if (IsGlue(c)) {
			CopyWord();
			return;
		}
		Emit(text_.Slice(pos_++, 1));
	}

	bool AtBoundary() const {
		return pos_ == 0 || !IsGlue(text_.At(pos_ - 1));
	}

	bool TryToken() {
		const unsigned char c = text_.At(pos_);
		if (TryEmail()) {
			return true;
		}
		if (c == '\'' || c == '"') {
			return TryQuoted(c);
		}
		if (c == '+' || c == '-') {
			return TrySignedNumber();
		}
		return TryUnsigned(pos_);
	}

	// UUID, timestamp, hex and number (in that order) starting at pos.
	bool TryUnsigned(std::size_t pos) {
		if (const std::size_t length = MatchUuid(text_, pos); length > 0) {
			return Replace(pos, length, kUuid);
		}
		if (const std::size_t length = MatchTimestamp(text_, pos); length > 0) {
			return Replace(pos, length, kTimestamp);
		}
		if (const std::size_t length = MatchHex(text_, pos); length > 0) {
			return Replace(pos, length, kHex);
		}
		if (const std::size_t length = MatchNumber(text_, pos); length > 0) {
			return Replace(pos, length, kNumber);
		}
		return false;
	}

	// A sign only joins a plain number: before a UUID, timestamp or hex id it stays as text, so that
	// "-0x1f" gives "-<hex>" just as "0x1f" gives "<hex>".
	// A sign right after another sign is an operator or punctuation ("C++11", "--5"), not part of the number.
	bool TrySignedNumber() {
		const unsigned char before = pos_ > 0 ? text_.At(pos_ - 1) : ' ';
		if (!IsDigit(text_.At(pos_ + 1)) || before == '+' || before == '-') {
			return false;
		}
		const std::size_t body = pos_ + 1;
		if (MatchUuid(text_, body) > 0 || MatchTimestamp(text_, body) > 0 || MatchHex(text_, body) > 0) {
			Emit(text_.Slice(pos_, 1));
			return TryUnsigned(body);
		}
		return Replace(pos_, MatchNumber(text_, pos_), kNumber);
	}

	bool TryQuoted(unsigned char quote) {
		bool &unmatched = (quote == '\'') ? single_unmatched_ : double_unmatched_;
		// The second quote of a doubled pair ("it''s") does not open a value either.
		if (unmatched || (pos_ > 0 && text_.At(pos_ - 1) == quote)) {
			return false;
		}
		for (std::size_t pos = pos_ + 1; pos < text_.Size(); ++pos) {
			const unsigned char c = text_.At(pos);
			// A backslash escapes the next byte and a doubled quote stands for itself: skip both.
			if (c == '\\' || (c == quote && text_.At(pos + 1) == quote)) {
				++pos;
			} else if (c == quote && !IsGlue(text_.At(pos + 1))) {
				return Replace(pos_, pos + 1 - pos_, kString);
			}
		}
		// A later quote of this kind would search (almost) the same tail and fail too; giving up on them
		// keeps the scan linear instead of quadratic on text full of stray quotes.
		unmatched = true;
		return false;
	}

	// An e-mail address at pos_. A failed attempt remembers where its local part ended (at an '@' or at a
	// byte no local part has): an attempt from any later start before that point would end there too, so
	// it is not made, and the scan stays linear.
	bool TryEmail() {
		// A local part does not start with a dot: "..john@x.com" keeps its dots (the address starts at j).
		if (pos_ < email_fails_before_ || text_.At(pos_) == '.') {
			return false;
		}
		const std::size_t local = text_.Run(pos_, IsEmailLocal);
		const std::size_t at = pos_ + local;
		if (local == 0 || text_.At(at) != '@') {
			email_fails_before_ = at + 1;
			return false;
		}
		// Dotted labels of letters, digits and '-'; at least two, each non-empty, the last with a letter
		// (a top-level domain: "lodash@4.17.21" and "deploy@10.0.0.1" are a version and a host).
		std::size_t end = at + 1;
		std::size_t labels = 0;
		bool last_has_letter = false;
		while (true) {
			const std::size_t label = text_.Run(end, IsDomainByte);
			if (label == 0) {
				break;
			}
			last_has_letter = text_.Run(end, IsDigit) < label;
			end += label;
			++labels;
			if (text_.At(end) != '.' || !IsDomainByte(text_.At(end + 1))) {
				break;
			}
			++end;
		}
		if (labels < 2 || !last_has_letter || IsGlue(text_.At(end))) {
			email_fails_before_ = at + 1;
			return false;
		}
		return Replace(pos_, end - pos_, kEmail);
	}

	static bool IsEmailLocal(unsigned char c) {
		return IsAsciiLetter(c) || IsDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
	}

	static bool IsDomainByte(unsigned char c) {
		return IsAsciiLetter(c) || IsDigit(c) || c == '-';
	}

	// Copies a run of glue bytes; non-ASCII bytes are glue, so multibyte characters are never split.
	void CopyWord() {
		std::size_t end = pos_ + text_.Run(pos_, IsGlue);
		// A word ending in a digit keeps a dotted version suffix: "v1.2.3", "python3.11".
		while (IsDigit(text_.At(end - 1)) && text_.At(end) == '.' && IsDigit(text_.At(end + 1))) {
			end += 1 + text_.Run(end + 1, IsGlue);
		}
		Emit(text_.Slice(pos_, end - pos_));
		pos_ = end;
	}

	bool Replace(std::size_t pos, std::size_t length, std::string_view placeholder) {
		Emit(placeholder);
		pos_ = pos + length;
		return true;
	}

	void Emit(std::string_view piece) {
		if (pending_space_) {
			out_ += ' ';
			pending_space_ = false;
		}
		out_ += piece;
	}

	std::string Finish() {
		if (out_.size() > kMaxFingerprintBytes) {
			std::size_t cut = kMaxFingerprintBytes;
			// At most three steps back: a UTF-8 sequence is at most four bytes long.
			for (int steps = 0; steps < 3 && cut > 0 && IsUtf8Continuation(static_cast<unsigned char>(out_[cut]));
			     ++steps) {
				--cut;
			}
			out_.resize(cut);
			while (!out_.empty() && out_.back() == ' ') {
				out_.pop_back();
			}
		}
		return std::move(out_);
	}

	Text text_;
	std::size_t pos_ = 0;
	std::string out_;
	bool pending_space_ = false;
	bool single_unmatched_ = false;
	bool double_unmatched_ = false;
	std::size_t email_fails_before_ = 0;
};

} // namespace

std::string Fingerprint(std::string_view error_message) {
	return Scanner(error_message).Run();
}

} // namespace dlq::core
