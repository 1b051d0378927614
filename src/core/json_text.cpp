#include "core/json_text.hpp"

#include <nlohmann/json.hpp>

#include <utility>

namespace dlq::core {

namespace {

// Accepts every value; remembers where the text went wrong, and the number when that was one past a
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
	bool parse_error(std::size_t position, const std::string &last_token,
	                 const nlohmann::detail::exception &error) override {
		error_position = position;
		if (error.id == kNumberOverflow)
			overflowing_number = last_token;
		return false;
	}

	static constexpr int kNumberOverflow = 406; // nlohmann's out_of_range.406
	std::size_t error_position = 0;
	std::string overflowing_number;
};

} // namespace

bool CheckJsonText(std::string_view text, std::string_view blank, std::string *blanked, std::size_t *error_position) {
	blanked->clear();
	std::string_view checked = text;
	for (;;) {
		CheckingSax sax;
		bool valid = false;
		try {
			valid = nlohmann::json::sax_parse(checked, &sax);
		} catch (const nlohmann::json::exception &) {
			valid = false;
		}
		if (valid)
			return true;
		*error_position = sax.error_position;
		const std::string &number = sax.overflowing_number;
		// The number ends where the parser stopped; a blank longer than it would move what follows.
		const std::size_t start = number.size() < blank.size() || sax.error_position > checked.size()
		                              ? std::string_view::npos
		                              : checked.rfind(number, sax.error_position);
		if (number.empty() || start == std::string_view::npos)
			return false;
		std::string next(checked);
		next.replace(start, number.size(), std::string(blank) + std::string(number.size() - blank.size(), ' '));
		*blanked = std::move(next);
		checked = *blanked;
	}
}

} // namespace dlq::core
