// Checking JSON text without building a document, where numbers have no size limit.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace dlq::core {

// Whether text is valid JSON. JSON puts no limit on numbers, and PostgreSQL's jsonb keeps any as a
// numeric, but nlohmann's parser stops at one past a double's range (1e400). When it does, every such
// number (outside strings, in one pass) is overwritten with `blank` padded with spaces, which keeps every
// byte position (blank must be at most 5 bytes, the shortest such number: 1e309), and the text is
// checked once more. *blanked receives the text so changed, and stays empty when no number was;
// *error_position says where invalid text went wrong. Linear in the text; the parser is SAX and
// iterative, so deep nesting cannot exhaust the stack.
bool CheckJsonText(std::string_view text, std::string_view blank, std::string *blanked, std::size_t *error_position);

} // namespace dlq::core

#include "core/no_postgres.hpp"
