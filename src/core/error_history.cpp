#include "core/error_history.hpp"

#include <nlohmann/json.hpp>

#include <string>

#include "core/error.hpp"

namespace dlq::core {

namespace {

constexpr std::string_view kTruncationMark = "\xE2\x80\xA6[truncated]"; // "…[truncated]"

bool IsUtf8Continuation(unsigned char byte) {
	return (byte & 0xC0) == 0x80;
}

// Validates JSON text without building a DOM: the SAX parser is iterative, so deeply nested details
// cannot exhaust the stack, and it remembers where the text went wrong.
class ValidatingSax final : public nlohmann::json::json_sax_t {
public:
	bool null() override {
		return true;
	}
	bool boolean(bool) override {
		return true;
	}
	bool number_integer(number_integer_t) override {
		return true;
	}
	bool number_unsigned(number_unsigned_t) override {
		return true;
	}
	bool number_float(number_float_t, const string_t &) override {
		return true;
	}
	bool string(string_t &) override {
		return true;
	}
	bool binary(binary_t &) override {
		return true;
	}
	bool start_object(std::size_t) override {
		return true;
	}
	bool key(string_t &) override {
		return true;
	}
	bool end_object() override {
		return true;
	}
	bool start_array(std::size_t) override {
		return true;
	}
	bool end_array() override {
		return true;
	}
	bool parse_error(std::size_t position, const std::string &last_token,
	                 const nlohmann::detail::exception &error) override {
		error_position = position;
		if (error.id == kNumberOverflow)
			overflowing_number = last_token;
		return false;
	}

	static constexpr int kNumberOverflow = 406; // nlohmann's out_of_range.406: a number past a double's range
	std::size_t error_position = 0;
	std::string overflowing_number; // set when that was the error
};

// JSON puts no limit on numbers, and PostgreSQL's jsonb keeps any as a numeric, but nlohmann's parser
// stops at one too large for a double (1e400). Such a number is blanked to "0" and spaces, which keeps
// every byte position, and the rest of the text is checked again.
void ValidateDetailsJson(std::string_view text) {
	std::string blanked;
	std::string_view checked = text;
	for (;;) {
		ValidatingSax sax;
		bool valid = false;
		try {
			valid = nlohmann::json::sax_parse(checked, &sax);
		} catch (const nlohmann::json::exception &) {
			valid = false;
		}
		if (valid)
			return;
		const std::size_t start = sax.overflowing_number.empty() || sax.error_position > checked.size()
		                              ? std::string_view::npos
		                              : checked.rfind(sax.overflowing_number, sax.error_position);
		if (start == std::string_view::npos) {
			throw Error(sqlstate::kInvalidJsonText, "details is not valid JSON",
			            "Parsing failed at byte " + std::to_string(sax.error_position) + ".");
		}
		std::string next(checked);
		next.replace(start, sax.overflowing_number.size(), "0" + std::string(sax.overflowing_number.size() - 1, ' '));
		blanked = std::move(next);
		checked = blanked;
	}
}

// Drops the insignificant whitespace of JSON text that is already known to be valid. Copying the text
// (rather than re-serialising a parsed value) keeps every number exactly as written.
std::string MinifyJson(std::string_view text) {
	std::string out;
	out.reserve(text.size());
	bool in_string = false;
	bool escaped = false;
	for (const char c : text) {
		if (in_string) {
			out += c;
			if (escaped) {
				escaped = false;
			} else if (c == '\\') {
				escaped = true;
			} else if (c == '"') {
				in_string = false;
			}
		} else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			out += c;
			in_string = (c == '"');
		}
	}
	return out;
}

// A JSON string literal. Invalid UTF-8 (possible with a SQL_ASCII database) becomes U+FFFD instead of
// failing the whole record.
std::string JsonString(const std::string &value) {
	return nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

std::string TruncateMessage(std::string_view message, std::size_t max_bytes) {
	if (message.size() <= max_bytes) {
		return std::string(message);
	}
	const bool with_mark = max_bytes >= kTruncationMark.size();
	std::size_t cut = with_mark ? max_bytes - kTruncationMark.size() : max_bytes;
	// Step back over at most three continuation bytes: a UTF-8 sequence is at most four bytes long, and
	// the limit keeps invalid input (long runs of continuation bytes) from being cut to nothing.
	for (int steps = 0; steps < 3 && cut > 0 && IsUtf8Continuation(static_cast<unsigned char>(message[cut])); ++steps) {
		--cut;
	}
	std::string out(message.substr(0, cut));
	if (with_mark) {
		out += kTruncationMark;
	}
	return out;
}

std::string AttemptRecordJson(const AttemptRecord &record) {
	std::string details = "null";
	if (record.details.has_value()) {
		ValidateDetailsJson(*record.details);
		details = MinifyJson(*record.details);
	}
	try {
		std::string out = "{\"attempt\":" + std::to_string(record.attempt);
		out += ",\"at\":" + JsonString(record.at);
		out += ",\"worker\":" + JsonString(record.worker);
		out += ",\"error\":" + JsonString(TruncateMessage(record.error));
		out += ",\"details\":" + details;
		out += '}';
		return out;
	} catch (const nlohmann::json::exception &e) {
		// Not expected with the replace error handler; converted so that only Error leaves the core.
		throw Error(sqlstate::kInternalError, "could not serialise attempt record", std::string(e.what()) + ".");
	}
}

} // namespace dlq::core
