#include "core/job_batch.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/error_history.hpp"
#include "core/json_text.hpp"
#include "core/validation.hpp"

namespace dlq::core {

namespace {

using Json = nlohmann::json;

constexpr const char *kAcceptedFieldsHint =
    "Accepted fields are kind, payload, run_at, priority, max_attempts, tenant, actor and dedup_key.";
constexpr std::size_t kMaxEchoedKeyBytes = 64;

// ---- JSON field checks ---------------------------------------------------------------------------------

std::string FieldPath(std::size_t index, std::string_view field) {
	std::string path = "jobs[" + std::to_string(index) + "]";
	if (!field.empty()) {
		path += '.';
		path += field;
	}
	return path;
}

[[noreturn]] void ThrowBadElement(const std::string &message, std::string detail = {}, std::string hint = {}) {
	throw Error(sqlstate::kInvalidParameterValue, message, std::move(detail), std::move(hint));
}

// True when value is a JSON integer (signed or unsigned storage) within [low, high]. Floats such as 5.0
// are rejected: the SQL side reads these fields as integers.
bool IsIntegerInRange(const Json &value, int64_t low, int64_t high) {
	if (value.is_number_unsigned()) {
		const uint64_t number = value.get<uint64_t>();
		return high >= 0 && number <= static_cast<uint64_t>(high) && static_cast<int64_t>(number) >= low;
	}
	if (value.is_number_integer()) {
		const int64_t number = value.get<int64_t>();
		return number >= low && number <= high;
	}
	return false;
}

// kind, tenant, actor, dedup_key: a non-blank string of at most kMaxNameBytes bytes.
void CheckNameField(std::size_t index, std::string_view field, const Json &value) {
	if (!value.is_string()) {
		ThrowBadElement(FieldPath(index, field) + " must be a non-empty string",
		                "It is a JSON " + std::string(value.type_name()) + ".");
	}
	const std::string &text = value.get_ref<const std::string &>();
	if (IsBlank(text)) {
		ThrowBadElement(FieldPath(index, field) + " must be a non-empty string", "The string is blank.");
	}
	if (text.size() > kMaxNameBytes) {
		const std::string detail = "It is " + std::to_string(text.size()) + " bytes; the limit is " +
		                           std::to_string(kMaxNameBytes) + " bytes.";
		ThrowBadElement(FieldPath(index, field) + " is too long", detail);
	}
}

void CheckKind(std::size_t index, const Json &element) {
	const auto found = element.find("kind");
	if (found == element.end()) {
		ThrowBadElement(FieldPath(index, "kind") + " must be a non-empty string", "The field is missing.",
		                "Every job needs a kind.");
	}
	CheckNameField(index, "kind", *found);
}

void CheckRunAt(std::size_t index, const Json &value) {
	if (!value.is_string() || !IsIso8601TimestampWithZone(value.get_ref<const std::string &>())) {
		ThrowBadElement(FieldPath(index, "run_at") + " must be an ISO-8601 timestamp with a time zone", {},
		                "Use a form like \"2026-11-23T10:00:00Z\" or \"2026-11-23 10:00:00+01:00\".");
	}
}

void CheckInteger(std::size_t index, std::string_view field, const Json &value, int64_t low, int64_t high) {
	if (!IsIntegerInRange(value, low, high)) {
		ThrowBadElement(FieldPath(index, field) + " must be an integer between " + std::to_string(low) + " and " +
		                std::to_string(high));
	}
}

bool IsAcceptedField(const std::string &key) {
	return key == "kind" || key == "payload" || key == "run_at" || key == "priority" || key == "max_attempts" ||
	       key == "tenant" || key == "actor" || key == "dedup_key";
}

// Validates one element; returns whether it carries a non-null dedup_key.
bool CheckElement(std::size_t index, const Json &element) {
	if (!element.is_object()) {
		ThrowBadElement(FieldPath(index, {}) + " must be a JSON object",
		                "It is a JSON " + std::string(element.type_name()) + ".");
	}
	for (const auto &item : element.items()) {
		if (!IsAcceptedField(item.key())) {
			ThrowBadElement(FieldPath(index, TruncateMessage(item.key(), kMaxEchoedKeyBytes)) +
			                    " is not an accepted field",
			                {}, kAcceptedFieldsHint);
		}
	}
	CheckKind(index, element);
	// payload accepts any JSON value, so it needs no check. For the rest, null means "use the default".
	const auto check_optional = [&](const char *field, auto check) {
		const auto found = element.find(field);
		if (found != element.end() && !found->is_null()) {
			check(*found);
		}
	};
	check_optional("run_at", [&](const Json &value) { CheckRunAt(index, value); });
	check_optional("priority", [&](const Json &value) {
		CheckInteger(index, "priority", value, std::numeric_limits<int32_t>::min(),
		             std::numeric_limits<int32_t>::max());
	});
	check_optional("max_attempts",
	               [&](const Json &value) { CheckInteger(index, "max_attempts", value, 1, kMaxAttemptsLimit); });
	for (const char *field : {"tenant", "actor", "dedup_key"}) {
		check_optional(field, [&](const Json &value) { CheckNameField(index, field, value); });
	}
	const auto dedup_key = element.find("dedup_key");
	return dedup_key != element.end() && !dedup_key->is_null();
}

// The checks read the array, its elements and their fields' own values: whatever is nested inside a
// field's value (a payload's content, mostly) is dropped as it is parsed, so a batch of large payloads
// costs memory for its skeleton only, not a second copy of every payload outside PostgreSQL's memory
// contexts (a 107 MB batch held 1 GB). A field's object or array value stays, empty, for its type.
// nlohmann reports a container's start and end at its own depth and what it holds one deeper: with the
// array at 0 and its elements at 1, a field's value is at 2, and its content from 3 on.
bool KeepSkeleton(int depth, Json::parse_event_t, Json &) {
	constexpr int kFieldValueDepth = 2;
	return depth <= kFieldValueDepth;
}

Json ParseJobs(std::string_view json_text) {
	try {
		return Json::parse(json_text, KeepSkeleton);
	} catch (const Json::parse_error &e) {
		throw Error(sqlstate::kInvalidJsonText, "jobs is not valid JSON",
		            "Parsing failed at byte " + std::to_string(e.byte) + ".");
	} catch (const Json::out_of_range &) {
		// A number past a double's range (1e999), which nlohmann cannot hold but jsonb keeps: valid in a
		// payload, which is written from the jsonb and not from this document. Blanked to 0.5 for these
		// checks, so that in an integer field it is still refused, by the element's own message.
		std::string blanked;
		std::size_t error_position = 0;
		if (!CheckJsonText(json_text, "0.5", &blanked, &error_position) || blanked.empty()) {
			throw Error(sqlstate::kInvalidJsonText, "jobs is not valid JSON",
			            "Parsing failed at byte " + std::to_string(error_position) + ".");
		}
		return ParseJobs(blanked);
	} catch (const Json::exception &e) {
		throw Error(sqlstate::kInvalidJsonText, "jobs is not valid JSON", std::string(e.what()) + ".");
	}
}

// ---- ISO-8601 timestamps ---------------------------------------------------------------------------------

// A forward-only reader over the timestamp text; every method consumes only on success.
class Cursor {
public:
	explicit Cursor(std::string_view text) : text_(text) {
	}

	// Reads exactly `count` ASCII digits into value.
	bool Digits(std::size_t count, int &value) {
		if (text_.size() - pos_ < count) {
			return false;
		}
		int result = 0;
		for (std::size_t i = 0; i < count; ++i) {
			const char c = text_[pos_ + i];
			if (c < '0' || c > '9') {
				return false;
			}
			result = result * 10 + (c - '0');
		}
		value = result;
		pos_ += count;
		return true;
	}

	// Reads one or more ASCII digits, ignoring their value.
	bool SomeDigits() {
		const std::size_t start = pos_;
		while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
			++pos_;
		}
		return pos_ > start;
	}

	bool Char(char expected) {
		if (pos_ < text_.size() && text_[pos_] == expected) {
			++pos_;
			return true;
		}
		return false;
	}

	bool AtEnd() const {
		return pos_ == text_.size();
	}

private:
	std::string_view text_;
	std::size_t pos_ = 0;
};

bool IsLeapYear(int year) {
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
	static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return (month == 2 && IsLeapYear(year)) ? 29 : kDays[month - 1];
}

// YYYY-MM-DD; year 0 does not exist in PostgreSQL's calendar, so it is rejected.
bool ReadDate(Cursor &cursor) {
	int year = 0;
	int month = 0;
	int day = 0;
	if (!cursor.Digits(4, year) || !cursor.Char('-') || !cursor.Digits(2, month) || !cursor.Char('-') ||
	    !cursor.Digits(2, day)) {
		return false;
	}
	return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= DaysInMonth(year, month);
}

// HH:MM[:SS[.fraction]]
bool ReadTime(Cursor &cursor) {
	int hour = 0;
	int minute = 0;
	if (!cursor.Digits(2, hour) || !cursor.Char(':') || !cursor.Digits(2, minute) || hour > 23 || minute > 59) {
		return false;
	}
	if (!cursor.Char(':')) {
		return true;
	}
	int second = 0;
	if (!cursor.Digits(2, second) || second > 59) {
		return false;
	}
	return !cursor.Char('.') || cursor.SomeDigits();
}

// Z | ±HH[:MM]. Offsets go up to 15:59, PostgreSQL's limit.
bool ReadZone(Cursor &cursor) {
	if (cursor.Char('Z')) {
		return true;
	}
	if (!cursor.Char('+') && !cursor.Char('-')) {
		return false;
	}
	int hours = 0;
	if (!cursor.Digits(2, hours) || hours > 15) {
		return false;
	}
	if (!cursor.Char(':')) {
		return true;
	}
	int minutes = 0;
	return cursor.Digits(2, minutes) && minutes <= 59;
}

} // namespace

bool IsIso8601TimestampWithZone(std::string_view text) {
	Cursor cursor(text);
	return ReadDate(cursor) && (cursor.Char('T') || cursor.Char(' ')) && ReadTime(cursor) && ReadZone(cursor) &&
	       cursor.AtEnd();
}

JobBatchSummary ValidateJobBatch(std::string_view json_text) {
	const Json jobs = ParseJobs(json_text);
	if (!jobs.is_array()) {
		throw Error(sqlstate::kInvalidParameterValue, "jobs must be a JSON array",
		            "It is a JSON " + std::string(jobs.type_name()) + ".");
	}
	if (jobs.empty()) {
		throw Error(sqlstate::kInvalidParameterValue, "jobs must not be empty", {}, "Pass at least one job.");
	}
	if (jobs.size() > static_cast<std::size_t>(kMaxBatch)) {
		throw Error(sqlstate::kInvalidParameterValue, "jobs has too many elements",
		            "It has " + std::to_string(jobs.size()) + " elements; the limit is " + std::to_string(kMaxBatch) +
		                ".",
		            "Split the jobs over several calls.");
	}
	JobBatchSummary summary;
	summary.count = jobs.size();
	for (std::size_t index = 0; index < jobs.size(); ++index) {
		summary.has_dedup_keys = CheckElement(index, jobs[index]) || summary.has_dedup_keys;
	}
	return summary;
}

} // namespace dlq::core
