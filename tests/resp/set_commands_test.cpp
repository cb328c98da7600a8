// SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SSCAN, and the collected-reply limit.
#include <catch2/catch.hpp>

#include <set>

#include "tests/resp/resp_test_support.h"

namespace cairn::resp {
namespace {

using test::array_reply;
using test::error_reply;
using test::int_reply;
using test::RespHarness;

const std::string kWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";

// SSCAN or SCAN pages from cursor 0 to the end: every item seen, how many pages.
struct Pages {
  std::vector<std::string> items;
  int pages = 0;
};

Pages page_through(RespHarness& h, std::vector<std::string> command, std::size_t cursor_at) {
  Pages result;
  std::string cursor = "0";
  do {
    command[cursor_at] = cursor;
    std::string reply = h.call(command);
    // *2\r\n$<n>\r\n<cursor>\r\n*<count>\r\n then bulks.
    REQUIRE(reply.substr(0, 5) == "*2\r\n$");
    std::size_t at = reply.find("\r\n", 4) + 2;
    const std::size_t cursor_end = reply.find("\r\n", at);
    cursor = reply.substr(at, cursor_end - at);
    at = cursor_end + 2;
    REQUIRE(reply[at] == '*');
    const std::size_t count_end = reply.find("\r\n", at);
    const int count = std::stoi(reply.substr(at + 1, count_end - at - 1));
    at = count_end + 2;
    for (int i = 0; i < count; ++i) {
      const std::size_t length_end = reply.find("\r\n", at);
      const std::size_t length = std::stoul(reply.substr(at + 1, length_end - at - 1));
      result.items.push_back(reply.substr(length_end + 2, length));
      at = length_end + 2 + length + 2;
    }
    ++result.pages;
    REQUIRE(result.pages < 10'000);
  } while (cursor != "0");
  return result;
}

TEST_CASE("resp sets: SADD and SREM answer how many members they added or removed") {
  RespHarness h;
  CHECK(h.send("SADD s a b a\r\nSADD s b c\r\nSREM s a z\r\nSREM s z\r\nSREM nope a\r\n") ==
        int_reply(2) + int_reply(1) + int_reply(1) + int_reply(0) + int_reply(0));
  CHECK(h.send("SMEMBERS s\r\nSCARD s\r\nSCARD nope\r\n") ==
        array_reply({"b", "c"}) + int_reply(2) + int_reply(0));
}

TEST_CASE("resp sets: SISMEMBER and SMISMEMBER") {
  RespHarness h;
  CHECK(h.send("SADD s a\r\nSISMEMBER s a\r\nSISMEMBER s z\r\nSMISMEMBER s a z\r\nSMISMEMBER nope a\r\n") ==
        int_reply(1) + int_reply(1) + int_reply(0) + "*2\r\n:1\r\n:0\r\n" + "*1\r\n:0\r\n");
  CHECK(h.send("SMEMBERS nope\r\n") == "*0\r\n");
}

TEST_CASE("resp sets: set commands on a register or counter are WRONGTYPE, and set members are limited") {
  RespHarness h;
  CHECK(h.send("SET r v\r\nINCR c\r\n") == "+OK\r\n" + int_reply(1));
  for (const char* command : {"SADD r x\r\n", "SREM r x\r\n", "SMEMBERS r\r\n", "SISMEMBER r x\r\n",
                              "SCARD c\r\n", "SSCAN r 0\r\n", "SMISMEMBER c x\r\n"}) {
    INFO(command);
    CHECK(h.send(command) == error_reply(kWrongType));
  }
  CHECK(h.call({"SADD", "s", std::string(251, 'm')}) ==
        error_reply("ERR set member of 251 bytes exceeds the limit of 250"));
}

TEST_CASE("resp sets: an add wins over a concurrent remove on another peer") {
  test::TempDir other_dir;
  RespHarness h;
  auto other = test::open_store(other_dir.str(), test::fast_store_options());
  CHECK(h.send("SADD s m\r\n") == int_reply(1));
  test::ship_deltas(h.store(), *other);
  REQUIRE(other->srem("s", {"m"}));
  CHECK(h.send("SADD s m\r\n") == int_reply(0));  // Held already, but the add is written: new dots.
  test::ship_deltas(*other, h.store());
  CHECK(h.send("SISMEMBER s m\r\n") == int_reply(1));
}

TEST_CASE("resp sets: SSCAN pages through a large set, each member exactly once") {
  RespHarness h;
  std::vector<std::string> members;
  for (int i = 0; i < 2500; ++i) members.push_back("member" + std::to_string(i));
  REQUIRE(h.store().sadd("big", members));
  const Pages all = page_through(h, {"SSCAN", "big", "0", "COUNT", "100"}, 2);
  CHECK(std::set<std::string>(all.items.begin(), all.items.end()).size() == 2500);
  CHECK(all.items.size() == 2500);
  CHECK(all.pages >= 25);
  const Pages matching = page_through(h, {"SSCAN", "big", "0", "MATCH", "member1?", "COUNT", "500"}, 2);
  CHECK(matching.items.size() == 10);
  CHECK(h.send("SSCAN big 0 COUNT 0\r\nSSCAN big 0 COUNT x\r\nSSCAN big 0 TYPE set\r\nSSCAN big x\r\n") ==
        error_reply("ERR syntax error") + error_reply("ERR value is not an integer or out of range") +
            error_reply("ERR syntax error") + error_reply("ERR invalid cursor"));
}

TEST_CASE("resp sets: SMEMBERS past the collected-reply limit is refused, pointing to SSCAN") {
  RespOptions options;
  options.max_collected_reply_bytes = 1000;
  RespHarness h(options);
  std::vector<std::string> members;
  for (int i = 0; i < 200; ++i) members.push_back("m" + std::to_string(i));
  REQUIRE(h.store().sadd("s", members));
  CHECK(
      h.send("SMEMBERS s\r\n") ==
      error_reply("ERR the reply to smembers would pass 1000 bytes (cairn's limit for one collected reply); "
                  "iterate with SSCAN instead"));
  CHECK(h.send("SCARD s\r\n") == int_reply(200));
}

}  // namespace
}  // namespace cairn::resp
