#include "src/resp/glob.h"

#include <cstddef>
#include <utility>

namespace cairn::resp {
namespace {

// Matches `c` against the class starting after the '[' at pattern[at]; returns whether it matched and
// moves `at` to the class's closing ']' (or to the pattern's end when it has none).
bool match_class(std::string_view pattern, std::size_t& at, unsigned char c) {
  bool negate = false;
  if (at < pattern.size() && pattern[at] == '^') {
    negate = true;
    ++at;
  }
  bool matched = false;
  while (at < pattern.size() && pattern[at] != ']') {
    if (pattern[at] == '\\' && at + 1 < pattern.size()) {
      ++at;
      if (static_cast<unsigned char>(pattern[at]) == c) matched = true;
    } else if (at + 2 < pattern.size() && pattern[at + 1] == '-') {
      auto low = static_cast<unsigned char>(pattern[at]);
      auto high = static_cast<unsigned char>(pattern[at + 2]);
      if (low > high) std::swap(low, high);
      if (c >= low && c <= high) matched = true;
      at += 2;
    } else if (static_cast<unsigned char>(pattern[at]) == c) {
      matched = true;
    }
    ++at;
  }
  return negate ? !matched : matched;
}

// Matches one pattern element (not '*') at pattern[p] against text[t]; on success moves p past it.
bool match_one(std::string_view pattern, std::size_t& p, unsigned char c) {
  const char element = pattern[p];
  if (element == '?') {
    ++p;
    return true;
  }
  if (element == '[') {
    std::size_t at = p + 1;
    const bool matched = match_class(pattern, at, c);
    p = at < pattern.size() ? at + 1 : at;
    return matched;
  }
  if (element == '\\' && p + 1 < pattern.size()) {
    const bool matched = static_cast<unsigned char>(pattern[p + 1]) == c;
    p += 2;
    return matched;
  }
  ++p;
  return static_cast<unsigned char>(element) == c;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      if (p == pattern.size()) return true;
      star = p;
      star_text = t;
      continue;
    }
    std::size_t next = p;
    if (p < pattern.size() && match_one(pattern, next, static_cast<unsigned char>(text[t]))) {
      p = next;
      ++t;
      continue;
    }
    if (star == std::string_view::npos) return false;
    p = star;  // Let the last '*' take one more byte and try again from there.
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string glob_literal_prefix(std::string_view pattern) {
  const std::size_t special = pattern.find_first_of("*?[\\");
  return std::string(pattern.substr(0, special));
}

}  // namespace cairn::resp
