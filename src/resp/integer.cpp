#include "src/resp/integer.h"

#include <charconv>

namespace cairn::resp {

std::optional<std::int64_t> parse_int64(std::string_view text) {
  // 20 characters hold "-9223372036854775808"; longer text cannot be a valid int64.
  if (text.empty() || text.size() > 20) return std::nullopt;
  if (text == "0") return 0;
  const std::size_t first_digit = text[0] == '-' ? 1 : 0;
  if (first_digit >= text.size() || text[first_digit] < '1' || text[first_digit] > '9') return std::nullopt;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string format_int64(std::int64_t value) { return std::to_string(value); }

std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

}  // namespace cairn::resp
