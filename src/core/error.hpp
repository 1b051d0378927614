// The one exception type the core throws. It carries a SQLSTATE so the PostgreSQL layer can turn it
// into an ereport with the right errcode, message, detail and hint.
#pragma once
#include <stdexcept>
#include <string>

namespace dlq::core {

// SQLSTATEs used by the core (see PostgreSQL's errcodes.txt).
namespace sqlstate {
inline constexpr const char *kInvalidParameterValue = "22023";
inline constexpr const char *kNullValueNotAllowed = "22004";
inline constexpr const char *kInvalidTextRepresentation = "22P02";
inline constexpr const char *kInvalidJsonText = "22032";
inline constexpr const char *kUndefinedObject = "42704";
inline constexpr const char *kDuplicateObject = "42710";
inline constexpr const char *kProgramLimitExceeded = "54000";
inline constexpr const char *kInternalError = "XX000";
} // namespace sqlstate

class Error : public std::runtime_error {
public:
	Error(std::string sqlstate_code, const std::string &message, std::string detail_text = {},
	      std::string hint_text = {})
	    : std::runtime_error(message), sqlstate(std::move(sqlstate_code)), detail(std::move(detail_text)),
	      hint(std::move(hint_text)) {
	}

	std::string sqlstate;
	std::string detail;
	std::string hint;
};

} // namespace dlq::core

#include "core/no_postgres.hpp"
