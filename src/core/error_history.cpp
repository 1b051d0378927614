#include "core/error_history.hpp"

#include <nlohmann/json.hpp>

#include <string>

#include "core/error.hpp"
#include "core/json_text.hpp"

namespace dlq::core {

namespace {

// ASCII, so that it exists in every server encoding (the text goes back to the database's).
constexpr std::string_view kTruncationMark = "...[truncated]";

bool IsUtf8Continuation(unsigned char byte) {
	return (byte & 0xC0) == 0x80;
}

void ValidateDetailsJson(std::string_view text) {
	std::string blanked; // numbers past a double's range blanked: the record keeps them as written
	std::size_t error_position = 0;
	if (!CheckJsonText(text, "0", &blanked, &error_position)) {
		throw Error(sqlstate::kInvalidJsonText, "details is not valid JSON",
		            "Parsing failed at byte " + std::to_string(error_position) + ".");
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
