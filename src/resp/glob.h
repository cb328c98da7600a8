// Redis's glob-style patterns (KEYS, SCAN MATCH, SSCAN MATCH), over bytes.
//
// Supported as in Redis: '*' any run of bytes, '?' one byte, '[abc]' '[^abc]' '[a-z]' one byte of (or not
// of) a class, '\x' the byte x literally. A '[' with no closing ']' takes the rest of the pattern as its
// class, as Redis does. libc's fnmatch(3) is not used because keys may hold NUL bytes.
#pragma once

#include <string>
#include <string_view>

namespace cairn::resp {

// True when `text` matches `pattern` whole. Time O(|pattern| x |text|) at worst (no exponential
// backtracking: only the most recent '*' is retried).
bool glob_match(std::string_view pattern, std::string_view text);

// The bytes every match must start with (the pattern up to its first special character), so a key
// scan can start at that prefix instead of at the first key.
std::string glob_literal_prefix(std::string_view pattern);

}  // namespace cairn::resp
