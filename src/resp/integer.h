// Integers as Redis reads them from arguments and string values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::resp {

// Parses `text` as Redis's string2ll does: an optional '-', then decimal digits with no leading zero
// ("0" itself excepted), nothing else (no '+', no spaces, no "-0"), within int64. nullopt otherwise.
std::optional<std::int64_t> parse_int64(std::string_view text);

// `value` in decimal, as GET of a counter and INCR replies show it.
std::string format_int64(std::int64_t value);

// a + b and a - b, or nullopt when the result leaves int64 (Redis's "would overflow").
std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b);

}  // namespace cairn::resp
