#include "src/resp/glob.h"

#include <catch2/catch.hpp>

#include <string>

namespace cairn::resp {
namespace {

TEST_CASE("resp glob: Redis's pattern syntax over bytes") {
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("h?llo", "hello"));
  CHECK_FALSE(glob_match("h?llo", "hllo"));
  CHECK(glob_match("h*llo", "heeeello"));
  CHECK(glob_match("h[ae]llo", "hallo"));
  CHECK_FALSE(glob_match("h[ae]llo", "hillo"));
  CHECK(glob_match("h[^e]llo", "hallo"));
  CHECK_FALSE(glob_match("h[^e]llo", "hello"));
  CHECK(glob_match("h[a-b]llo", "hbllo"));
  CHECK(glob_match("h[b-a]llo", "hbllo"));  // A reversed range is read both ways, as in Redis.
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("a\\*b", "axb"));
  CHECK(glob_match("[\\]]", "]"));
  CHECK(glob_match("a[bc", "ab"));  // An unclosed class takes the rest of the pattern.
  CHECK(glob_match("*a*b*c*", "xxaxxbxxcxx"));
  CHECK_FALSE(glob_match("*a*b*c*", "xxaxxcxxbxx"));
  CHECK(glob_match(std::string("a\0*", 3), std::string("a\0zz", 4)));  // NUL bytes are ordinary bytes.
  CHECK_FALSE(glob_match("abc", "abcd"));
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "a"));
}

TEST_CASE("resp glob: a pathological pattern takes polynomial time") {
  const std::string text(5000, 'a');
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*b", text));
}

TEST_CASE("resp glob: the literal prefix stops at the first special character") {
  CHECK(glob_literal_prefix("user:*") == "user:");
  CHECK(glob_literal_prefix("a?c") == "a");
  CHECK(glob_literal_prefix("[ab]") == "");
  CHECK(glob_literal_prefix("a\\*") == "a");
  CHECK(glob_literal_prefix("plain") == "plain");
}

}  // namespace
}  // namespace cairn::resp
