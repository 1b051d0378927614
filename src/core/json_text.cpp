#include "core/json_text.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <utility>

namespace dlq::core {

namespace {

// Accepts every value; remembers where the text went wrong, and whether that was at a number past a
// double's range.
class CheckingSax final : public nlohmann::json::json_sax_t {
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
	bool parse_error(std::size_t position, const std::string &, const nlohmann::detail::exception &error) override {
		error_position = position;
		number_overflow = error.id == kNumberOverflow;
		return false;
	}

	static constexpr int kNumberOverflow = 406; // nlohmann's out_of_range.406
	std::size_t error_position = 0;
	bool number_overflow = false;
};

bool Parses(std::string_view text, CheckingSax *sax) {
	try {
		return nlohmann::json::sax_parse(text, sax);
	} catch (const nlohmann::json::exception &) {
		return false;
	}
}

bool IsDigit(char c) {
	return c >= '0' && c <= '9';
}

// A JSON number, whole: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view token) {
	std::size_t i = 0;
	auto digits = [&] {
		const std::size_t start = i;
		while (i < token.size() && IsDigit(token[i]))
			++i;
		return i > start;
	};
	if (i < token.size() && token[i] == '-')
		++i;
	if (i < token.size() && token[i] == '0')
		++i;
	else if (!digits())
		return false;
	if (i < token.size() && token[i] == '.') {
		++i;
		if (!digits())
			return false;
	}
	if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
		++i;
		if (i < token.size() && (token[i] == '+' || token[i] == '-'))
			++i;
		if (!digits())
			return false;
	}
	return i == token.size();
}

// One pass over the text outside strings: every whole JSON number a double cannot hold is overwritten
// with `blank` and spaces. Anything else is left for the parser to judge.
std::string BlankOverflowingNumbers(std::string_view text, std::string_view blank) {
	std::string out(text);
	bool in_string = false;
	bool escaped = false;
	std::size_t i = 0;
	while (i < out.size()) {
		const char c = out[i];
		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			++i;
		} else if (c == '"') {
			in_string = true;
			++i;
		} else if (c == '-' || IsDigit(c)) {
			std::size_t end = i + 1;
			while (end < out.size() && (IsDigit(out[end]) || out[end] == '.' || out[end] == 'e' || out[end] == 'E' ||
			                            out[end] == '+' || out[end] == '-'))
				++end;
			const std::string token = out.substr(i, end - i);
			if (token.size() >= blank.size() && IsJsonNumber(token) && std::isinf(std::strtod(token.c_str(), nullptr)))
				out.replace(i, token.size(), std::string(blank) + std::string(token.size() - blank.size(), ' '));
			i = end;
		} else {
			++i;
		}
	}
	return out;
}

} // namespace

bool CheckJsonText(std::string_view text, std::string_view blank, std::string *blanked, std::size_t *error_position) {
	blanked->clear();
	CheckingSax sax;
	if (Parses(text, &sax))
		return true;
	*error_position = sax.error_position;
	if (!sax.number_overflow)
		return false;
	std::string changed = BlankOverflowingNumbers(text, blank);
	CheckingSax again;
	if (!Parses(changed, &again)) {
		*error_position = again.error_position; // positions are the text's: blanking keeps them
		return false;
	}
	*blanked = std::move(changed);
	return true;
}

} // namespace dlq::core
