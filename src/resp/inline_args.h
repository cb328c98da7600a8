// Splits an inline command line ("SET key "a value"") into arguments, with Redis's quoting rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::resp {

// The arguments of one inline line (without its line ending), or nullopt when its quotes do not balance
// (Redis answers "Protocol error: unbalanced quotes in request" and closes).
//
// The rules are those of Redis's sdssplitargs: arguments are separated by whitespace; "double quotes"
// take the escapes \n \r \t \b \a \xHH and \<any other char> (that char); 'single quotes' take only \';
// a quote may open in the middle of an argument (a"b c" is "ab c"); a closing quote must be followed by
// whitespace or the end of the line. A NUL byte ends the line, as in Redis, which reads it as a C string.
std::optional<std::vector<std::string>> split_inline_args(std::string_view line);

}  // namespace cairn::resp
