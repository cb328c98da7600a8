#include "src/resp/request_reader.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/resp/inline_args.h"
#include "tests/resp/allocation_tracker.h"

namespace cairn::resp {
namespace {

using Args = std::vector<std::string>;
using Outcome = RequestReader::Outcome;

// What a reader makes of `bytes`: every command, and the error text if it failed.
struct Read {
  std::vector<Args> commands;
  std::string error;  // Empty unless the reader failed.
  bool needs_more = false;
};

Read read_all(RequestReader& reader) {
  Read read;
  Args args;
  for (;;) {
    const Outcome outcome = reader.next(args);
    if (outcome == Outcome::kCommand) {
      read.commands.push_back(args);
    } else {
      if (outcome == Outcome::kError) read.error = reader.error();
      read.needs_more = outcome == Outcome::kNeedMore;
      return read;
    }
  }
}

Read read_whole(std::string_view bytes, bool authenticated = true, RequestLimits limits = {}) {
  RequestReader reader(limits);
  reader.set_authenticated(authenticated);
  reader.append(bytes);
  return read_all(reader);
}

// The same bytes one at a time: the commands and the verdict must not depend on how bytes arrive.
Read read_byte_by_byte(std::string_view bytes, bool authenticated = true) {
  RequestReader reader;
  reader.set_authenticated(authenticated);
  Read total;
  for (char byte : bytes) {
    reader.append(std::string_view(&byte, 1));
    Read part = read_all(reader);
    total.commands.insert(total.commands.end(), part.commands.begin(), part.commands.end());
    if (!part.error.empty()) {
      total.error = part.error;
      return total;
    }
  }
  total.needs_more = true;
  return total;
}

TEST_CASE("resp reader: multibulk requests, one or several in one buffer, with binary arguments") {
  using namespace std::string_literals;
  const std::string bytes = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\n\0x\r\n*1\r\n$4\r\nPING\r\n"s;
  const Read read = read_whole(bytes);
  CHECK(read.error.empty());
  CHECK(read.commands == std::vector<Args>{{"SET", "k", std::string("v\r\n\0x", 5)}, {"PING"}});
  CHECK(read_byte_by_byte(bytes).commands == read.commands);
}

TEST_CASE("resp reader: inline commands, with quotes and escapes as Redis reads them") {
  const Read read = read_whole("SET k \"a b\\x41\\n\"\r\nGET 'it\\'s'\nPING\r\n");
  CHECK(read.error.empty());
  CHECK(read.commands == std::vector<Args>{{"SET", "k", "a bA\n"}, {"GET", "it's"}, {"PING"}});
  CHECK(split_inline_args("ECHO a\"b c\"") == Args{"ECHO", "ab c"});
  CHECK(split_inline_args("ECHO \"\\q\" \"\\xZZ\"") == Args{"ECHO", "q", "xZZ"});
  CHECK(split_inline_args("ECHO 'a\\nb'") == Args{"ECHO", "a\\nb"});
  CHECK(split_inline_args("ECHO \"\" ''") == Args{"ECHO", "", ""});
  CHECK(split_inline_args(std::string("ECHO a\0b", 8)) ==
        Args{"ECHO", "a"});  // NUL ends the line, as in Redis.
}

TEST_CASE("resp reader: empty requests are skipped (blank lines, *0, negative counts)") {
  const Read read = read_whole("\r\n   \r\n*0\r\n*-1\r\n*-10\r\nPING\r\n");
  CHECK(read.error.empty());
  CHECK(read.commands == std::vector<Args>{{"PING"}});
}

TEST_CASE("resp reader: the two bytes after a bulk are skipped unchecked, as Redis does") {
  CHECK(read_whole("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n").commands ==
        std::vector<Args>{{"PING"}, {"PING"}});
}

TEST_CASE("resp reader: a request cut short waits for more bytes") {
  for (const char* partial :
       {"*", "*2", "*2\r", "*2\r\n$3", "*2\r\n$3\r\nGET\r\n$1\r\nk", "GET k", "*1\r\n$4\r\nPI"}) {
    INFO(partial);
    const Read read = read_whole(partial);
    CHECK(read.commands.empty());
    CHECK(read.error.empty());
    CHECK(read.needs_more);
  }
}

// Every protocol error, byte for byte as Redis 7 words it (checked against redis-server 7.0.15).
TEST_CASE("resp reader: each protocol error has Redis's exact text, whole or byte by byte") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"*abc\r\n", "Protocol error: invalid multibulk length"},
      {"*\r\n", "Protocol error: invalid multibulk length"},
      {"*01\r\n", "Protocol error: invalid multibulk length"},
      {"*+1\r\n", "Protocol error: invalid multibulk length"},
      {"*1048577\r\n", "Protocol error: invalid multibulk length"},
      {"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", "Protocol error: expected '$', got 'f'"},
      {"*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$04\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$1099511627776\r\n", "Protocol error: invalid bulk length"},  // 2^40
      {"*1\r\n$16777217\r\n", "Protocol error: invalid bulk length"},       // kMaxValueBytes + 1
      {"set \"a b\r\n", "Protocol error: unbalanced quotes in request"},
      {"set \"a\"b c\r\n", "Protocol error: unbalanced quotes in request"},
      {"set 'a\r\n", "Protocol error: unbalanced quotes in request"},
      {"ECHO 'a'b\r\n", "Protocol error: unbalanced quotes in request"},
      {"PING\r\n*x\r\n", "Protocol error: invalid multibulk length"},
  };
  for (const auto& [bytes, error] : cases) {
    INFO(bytes);
    CHECK(read_whole(bytes).error == error);
    CHECK(read_byte_by_byte(bytes).error == error);
  }
  CHECK(read_whole("PING\r\n*x\r\n").commands ==
        std::vector<Args>{{"PING"}});  // What came before still counts.
}

TEST_CASE("resp reader: a line longer than 64 KiB is refused with Redis's text for its kind") {
  const std::string long_line(64 * 1024 + 1, 'a');
  CHECK(read_whole(long_line).error == "Protocol error: too big inline request");
  CHECK(read_whole("*" + long_line).error == "Protocol error: too big mbulk count string");
  CHECK(read_whole("*1\r\n$" + long_line).error == "Protocol error: too big bulk count string");
  CHECK(read_byte_by_byte(long_line).error == "Protocol error: too big inline request");
  // At the limit itself a line is fine.
  CHECK(read_whole("ECHO " + std::string(64 * 1024 - 5, 'b') + "\n").commands.size() == 1);
}

TEST_CASE("resp reader: unauthenticated requests are held to 10 arguments of 16384 bytes") {
  CHECK(read_whole("*11\r\n", false).error == "Protocol error: unauthenticated multibulk length");
  CHECK(read_whole("*1\r\n$16385\r\n", false).error == "Protocol error: unauthenticated bulk length");
  CHECK(read_whole("*10\r\n", false).needs_more);
  CHECK(read_whole("*1\r\n$16384\r\n", false).needs_more);
  // Authenticated, the same headers are fine.
  CHECK(read_whole("*11\r\n", true).needs_more);
  CHECK(read_whole("*1\r\n$16385\r\n", true).needs_more);
}

TEST_CASE("resp reader: the bytes of one request are bounded as a whole") {
  RequestLimits limits;
  limits.max_request_bytes = 1000;
  CHECK(read_whole("*3\r\n$400\r\n" + std::string(402, 'a') + "$400\r\n" + std::string(402, 'b') + "$400\r\n",
                   true, limits)
            .error == "Protocol error: request of more than 1000 bytes");
}

TEST_CASE("resp reader: a header announcing a huge size allocates nothing of that size") {
  // 2^40 bytes: refused at the header.
  test::reset_largest_allocation();
  CHECK(read_whole("*1\r\n$1099511627776\r\n").error == "Protocol error: invalid bulk length");
  CHECK(test::largest_allocation() < 4096);

  // A million-argument header from an authenticated client is legal: room for kReservedArguments is
  // reserved (a few tens of KB), never for a million.
  RequestReader reader;
  reader.set_authenticated(true);
  test::reset_largest_allocation();
  reader.append("*1000000\r\n$3\r\nSET\r\n");
  Args args;
  CHECK(reader.next(args) == Outcome::kNeedMore);
  CHECK(test::largest_allocation() < RequestReader::kReservedArguments * sizeof(std::string) + 4096);

  // A 16 MiB argument announced but not sent: nothing of that size is allocated while it is awaited.
  RequestReader big;
  big.set_authenticated(true);
  test::reset_largest_allocation();
  big.append("*2\r\n$3\r\nSET\r\n$16777216\r\nabc");
  CHECK(big.next(args) == Outcome::kNeedMore);
  CHECK(test::largest_allocation() < 4096);
  CHECK(big.buffered_bytes() == 3);
}

TEST_CASE("resp reader: after an error it stays failed and reads nothing more") {
  RequestReader reader;
  reader.set_authenticated(true);
  reader.append("*x\r\nPING\r\n");
  Args args;
  CHECK(reader.next(args) == Outcome::kError);
  reader.append("PING\r\n");
  CHECK(reader.next(args) == Outcome::kError);
  CHECK(reader.buffered_bytes() == 0);
}

}  // namespace
}  // namespace cairn::resp
