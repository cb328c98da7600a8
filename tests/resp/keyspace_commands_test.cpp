// DEL, UNLINK, EXISTS, TYPE, TTL, PTTL, KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSHDB.
#include <catch2/catch.hpp>

#include <set>

#include "tests/resp/resp_test_support.h"

namespace cairn::resp {
namespace {

using test::array_reply;
using test::bulk_reply;
using test::error_reply;
using test::int_reply;
using test::nil_reply;
using test::ok_reply;
using test::RespHarness;

// Every key a SCAN iteration returns, following its cursors to 0.
std::vector<std::string> scan_all(RespHarness& h, const std::vector<std::string>& options) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  for (int pages = 0; pages < 10'000; ++pages) {
    std::vector<std::string> command = {"SCAN", cursor};
    command.insert(command.end(), options.begin(), options.end());
    const std::string reply = h.call(command);
    REQUIRE(reply.substr(0, 5) == "*2\r\n$");
    std::size_t at = reply.find("\r\n", 4) + 2;
    const std::size_t cursor_end = reply.find("\r\n", at);
    cursor = reply.substr(at, cursor_end - at);
    at = cursor_end + 2;
    const std::size_t count_end = reply.find("\r\n", at);
    const int count = std::stoi(reply.substr(at + 1, count_end - at - 1));
    at = count_end + 2;
    for (int i = 0; i < count; ++i) {
      const std::size_t length_end = reply.find("\r\n", at);
      const std::size_t length = std::stoul(reply.substr(at + 1, length_end - at - 1));
      keys.push_back(reply.substr(length_end + 2, length));
      at = length_end + 2 + length + 2;
    }
    if (cursor == "0") return keys;
  }
  FAIL("SCAN never ended");
  return keys;
}

TEST_CASE("resp keys: DEL and UNLINK count the keys they deleted, of any kind") {
  RespHarness h;
  CHECK(h.send("SET a 1\r\nDEL a\r\nDEL a\r\nSADD s m\r\nUNLINK s nope s\r\nINCR c\r\nDEL c\r\n") ==
        ok_reply() + int_reply(1) + int_reply(0) + int_reply(1) + int_reply(1) + int_reply(1) + int_reply(1));
  CHECK(h.send("EXISTS a s c\r\n") == int_reply(0));
  // Two present keys are one atomic batch.
  CHECK(h.send("SET a 1\r\nSET b 2\r\nDEL a b c\r\nEXISTS a b\r\n") ==
        ok_reply() + ok_reply() + int_reply(2) + int_reply(0));
  CHECK(h.recorder().batches.back() ==
        std::vector<WriteOp>{{WriteOp::Kind::kDel, "a", {}, {}, 0}, {WriteOp::Kind::kDel, "b", {}, {}, 0}});
}

TEST_CASE("resp keys: EXISTS counts repeated keys, TYPE names the Redis type, TTL and PTTL say no expiry") {
  RespHarness h;
  CHECK(h.send("SET a 1\r\nSADD s m\r\nINCR c\r\n") == ok_reply() + int_reply(1) + int_reply(1));
  CHECK(h.send("EXISTS a a s nope\r\n") == int_reply(3));
  CHECK(h.send("TYPE a\r\nTYPE s\r\nTYPE c\r\nTYPE nope\r\n") == "+string\r\n+set\r\n+string\r\n+none\r\n");
  CHECK(h.send("TTL a\r\nPTTL s\r\nTTL nope\r\nPTTL nope\r\n") ==
        int_reply(-1) + int_reply(-1) + int_reply(-2) + int_reply(-2));
}

TEST_CASE("resp keys: KEYS matches glob patterns over the keys") {
  RespHarness h;
  for (const char* key : {"user:1", "user:2", "user:10", "item:1", "u[x]"}) REQUIRE(h.store().put(key, "v"));
  CHECK(h.send("KEYS user:*\r\n") == array_reply({"user:1", "user:10", "user:2"}));
  CHECK(h.send("KEYS user:?\r\n") == array_reply({"user:1", "user:2"}));
  CHECK(h.send("KEYS *:1\r\n") == array_reply({"item:1", "user:1"}));
  CHECK(h.send("KEYS [iu]*:1*\r\n") == array_reply({"item:1", "user:1", "user:10"}));
  CHECK(h.send("KEYS u\\[*\r\n") == array_reply({"u[x]"}));
  CHECK(h.send("KEYS nothing*\r\n") == "*0\r\n");
}

TEST_CASE("resp keys: KEYS past the collected-reply limit is refused, pointing to SCAN") {
  RespOptions options;
  options.max_collected_reply_bytes = 500;
  RespHarness h(options);
  for (int i = 0; i < 100; ++i) REQUIRE(h.store().put("key" + std::to_string(i), "v"));
  CHECK(h.send("KEYS *\r\n") ==
        error_reply(
            "ERR the reply to keys would pass 500 bytes (cairn's limit for one collected reply); iterate "
            "with SCAN instead"));
  CHECK(h.send("KEYS key1?\r\n").substr(0, 5) == "*10\r\n");  // A smaller answer is fine.
  CHECK(h.send("DBSIZE\r\n") == int_reply(100));
}

TEST_CASE("resp keys: SCAN visits every key once, with MATCH, COUNT and TYPE") {
  RespHarness h;
  for (int i = 0; i < 300; ++i) REQUIRE(h.store().put("r" + std::to_string(i), "v"));
  for (int i = 0; i < 50; ++i) REQUIRE(h.store().sadd("s" + std::to_string(i), {"m"}));
  const auto all = scan_all(h, {"COUNT", "7"});
  CHECK(all.size() == 350);
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 350);
  CHECK(scan_all(h, {"TYPE", "set"}).size() == 50);
  CHECK(scan_all(h, {"TYPE", "string", "MATCH", "r1*"}).size() == 111);
  CHECK(scan_all(h, {"TYPE", "list"}).empty());
  CHECK(h.send("SCAN x\r\nSCAN 0 COUNT 0\r\nSCAN 0 FOO 1\r\nSCAN 0 MATCH\r\nSCAN 0 COUNT x\r\n") ==
        error_reply("ERR invalid cursor") + error_reply("ERR syntax error") +
            error_reply("ERR syntax error") + error_reply("ERR syntax error") +
            error_reply("ERR value is not an integer or out of range"));
}

TEST_CASE(
    "resp keys: a SCAN cursor is continued once, across connections of the peer, and unknown ones are "
    "refused") {
  RespHarness h;
  for (int i = 0; i < 30; ++i) REQUIRE(h.store().put("k" + std::to_string(i), "v"));
  const std::string first = h.send("SCAN 0 COUNT 10\r\n");
  const std::size_t at = first.find("\r\n", 4) + 2;
  const std::string cursor = first.substr(at, first.find("\r\n", at) - at);
  REQUIRE(cursor != "0");
  CHECK(h.shared().cursors.size() == 1);
  // Another session of the same peer continues it.
  StoreBatchWriter writer(h.store());
  RespSession other(Services{h.store(), writer}, RespOptions{}, h.shared());
  other.receive(test::command_bytes({"SCAN", cursor, "COUNT", "10"}));
  while (other.has_work()) other.step();
  CHECK(other.take_output().substr(0, 5) == "*2\r\n$");
  // Continued already: refused.
  const std::string expired =
      "ERR unknown or expired cursor (each cursor can be continued once; start again from 0)";
  CHECK(h.call({"SCAN", cursor}) == error_reply(expired));
  CHECK(h.send("SCAN 12345\r\nSSCAN s 12345\r\n") == error_reply(expired) + error_reply(expired));
}

TEST_CASE("resp keys: the SCAN cursor registry is bounded, dropping the oldest iteration") {
  ScanCursors cursors(2, 7);
  const auto a = cursors.save(ScanPosition{});
  const auto b = cursors.save(ScanPosition{});
  const auto c = cursors.save(ScanPosition{});
  CHECK(cursors.size() == 2);
  CHECK_FALSE(cursors.take(a).has_value());
  CHECK(cursors.take(b).has_value());
  CHECK(cursors.take(c).has_value());
  CHECK(cursors.size() == 0);
  for (int i = 0; i < 100; ++i) {
    const auto number = cursors.save(ScanPosition{});
    CHECK(number != 0);
    CHECK(number < (std::uint64_t{1} << 53));
  }
}

TEST_CASE("resp keys: DBSIZE and RANDOMKEY") {
  RespHarness h;
  CHECK(h.send("DBSIZE\r\nRANDOMKEY\r\n") == int_reply(0) + nil_reply());
  for (const char* key : {"a", "m", "z"}) REQUIRE(h.store().put(key, "v"));
  CHECK(h.send("DBSIZE\r\n") == int_reply(3));
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(h.send("RANDOMKEY\r\n"));
  CHECK(seen == std::set<std::string>{bulk_reply("a"), bulk_reply("m"), bulk_reply("z")});
}

TEST_CASE("resp keys: FLUSHDB deletes every key as one batch") {
  RespHarness h;
  CHECK(h.send("SET a 1\r\nSADD s m\r\nINCR c\r\nFLUSHDB\r\nDBSIZE\r\nFLUSHALL ASYNC\r\nFLUSHDB NOW\r\n") ==
        ok_reply() + int_reply(1) + int_reply(1) + ok_reply() + int_reply(0) + ok_reply() +
            error_reply("ERR syntax error"));
  CHECK(h.recorder().batches.back() == std::vector<WriteOp>{{WriteOp::Kind::kDeleteAll, "", {}, {}, 0}});

  CHECK(h.send("SET a 1\r\nSADD s m\r\nFLUSHALL\r\nKEYS *\r\n") ==
        ok_reply() + int_reply(1) + ok_reply() + "*0\r\n");
}

}  // namespace
}  // namespace cairn::resp
