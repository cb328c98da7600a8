// MULTI, EXEC, DISCARD: one atomic batch per transaction, and where cairn differs from Redis.
#include <catch2/catch.hpp>

#include "tests/resp/resp_test_support.h"

namespace cairn::resp {
namespace {

using test::bulk_reply;
using test::error_reply;
using test::int_reply;
using test::nil_reply;
using test::ok_reply;
using test::RespHarness;

const std::string kQueued = "+QUEUED\r\n";

TEST_CASE("resp transactions: EXEC applies the queued writes as one batch and answers each command") {
  RespHarness h;
  CHECK(h.send("SET a 0\r\n") == ok_reply());
  const std::size_t batches_before = h.recorder().batches.size();
  CHECK(h.send("MULTI\r\nSET a 1\r\nSADD s x y\r\nINCRBY c 5\r\nDEL nope\r\nEXEC\r\n") ==
        ok_reply() + kQueued + kQueued + kQueued + kQueued + "*4\r\n" + ok_reply() + int_reply(2) +
            int_reply(5) + int_reply(0));
  REQUIRE(h.recorder().batches.size() == batches_before + 1);
  CHECK(h.recorder().batches.back() == std::vector<WriteOp>{{WriteOp::Kind::kPut, "a", "1", {}, 0},
                                                              {WriteOp::Kind::kSadd, "s", {}, {"x", "y"}, 0},
                                                              {WriteOp::Kind::kIncr, "c", {}, {}, 5}});
  CHECK(h.send("MGET a c\r\n") == "*2\r\n$1\r\n1\r\n$1\r\n5\r\n");
}

TEST_CASE("resp transactions: MULTI bookkeeping answers as Redis does") {
  RespHarness h;
  CHECK(h.send("EXEC\r\nDISCARD\r\n") ==
        error_reply("ERR EXEC without MULTI") + error_reply("ERR DISCARD without MULTI"));
  CHECK(h.send("MULTI\r\nMULTI\r\nWATCH k\r\nEXEC\r\n") ==
        ok_reply() + error_reply("ERR MULTI calls can not be nested") +
            error_reply("ERR WATCH inside MULTI is not allowed") + "*0\r\n");
  CHECK(h.send("MULTI\r\nSET a 1\r\nDISCARD\r\nGET a\r\n") ==
        ok_reply() + kQueued + ok_reply() + nil_reply());
}

TEST_CASE("resp transactions: an error while queueing discards the transaction at EXEC") {
  RespHarness h;
  const std::string abort = error_reply("EXECABORT Transaction discarded because of previous errors.");
  CHECK(h.send("MULTI\r\nSET a 1\r\nFOO\r\nEXEC\r\n") ==
        ok_reply() + kQueued + error_reply("ERR unknown command 'FOO', with args beginning with: ") + abort);
  CHECK(h.send("MULTI\r\nSET a 1\r\nGET\r\nEXEC\r\n") ==
        ok_reply() + kQueued + error_reply("ERR wrong number of arguments for 'get' command") + abort);
  CHECK(h.send("MULTI\r\nCLIENT ID\r\nEXEC\r\n") ==
        ok_reply() + error_reply("ERR Command not allowed inside a transaction") + abort);
  CHECK(h.send("GET a\r\n") == nil_reply());
}

TEST_CASE("resp transactions: unlike Redis, an error in any command at EXEC aborts the whole transaction") {
  RespHarness h;
  CHECK(h.send("SET r v\r\n") == ok_reply());
  CHECK(h.send("MULTI\r\nSET a 1\r\nSADD r x\r\nEXEC\r\n") ==
        ok_reply() + kQueued + kQueued +
            error_reply("EXECABORT Transaction discarded because command 2 ('sadd') failed: WRONGTYPE "
                        "Operation against a "
                        "key holding the wrong kind of value"));
  CHECK(h.send("GET a\r\n") == nil_reply());  // Nothing of it was written.
}

TEST_CASE(
    "resp transactions: a command reading a key an earlier command of the transaction writes is refused") {
  RespHarness h;
  const std::string refused =
      "reads a key an earlier command of the transaction writes, which cairn cannot plan before that write "
      "is made "
      "(send it after EXEC)";
  CHECK(h.send("MULTI\r\nSET a 1\r\nGET a\r\nEXEC\r\n") ==
        ok_reply() + kQueued + kQueued +
            error_reply("EXECABORT Transaction discarded because command 2 ('get') " + refused));
  CHECK(h.send("MULTI\r\nINCR c\r\nINCR c\r\nEXEC\r\n") ==
        ok_reply() + kQueued + kQueued +
            error_reply("EXECABORT Transaction discarded because command 2 ('incr') " + refused));
  CHECK(h.send("MULTI\r\nFLUSHDB\r\nKEYS *\r\nEXEC\r\n") ==
        ok_reply() + kQueued + kQueued +
            error_reply("EXECABORT Transaction discarded because command 2 ('keys') " + refused));
  CHECK(h.send("MULTI\r\nSET a 1\r\nDEL a\r\nEXEC\r\n") ==
        ok_reply() + kQueued + kQueued +
            error_reply("EXECABORT Transaction discarded because command 2 ('del') " + refused));
  CHECK(h.send("MULTI\r\nSET a 1\r\nDBSIZE\r\nEXEC\r\n") ==
        ok_reply() + kQueued + kQueued +
            error_reply("EXECABORT Transaction discarded because command 2 ('dbsize') " + refused));
  CHECK(h.send("EXISTS a c\r\n") == int_reply(0));
  // Reads of keys the transaction does not write are fine, before or after its writes; so are writes of
  // a key an earlier command wrote, when they do not depend on what it holds.
  CHECK(h.send("SET b 2\r\nMULTI\r\nGET b\r\nSET a 1\r\nSET a 2\r\nGET b\r\nEXEC\r\n") ==
        ok_reply() + ok_reply() + kQueued + kQueued + kQueued + kQueued + "*4\r\n" + bulk_reply("2") +
            ok_reply() + ok_reply() + bulk_reply("2"));
  CHECK(h.send("GET a\r\n") == bulk_reply("2"));
}

TEST_CASE("resp transactions: reads, one write and several writes in a transaction") {
  RespHarness h;
  CHECK(h.send("SET a 1\r\nMULTI\r\nGET a\r\nEXISTS a\r\nEXEC\r\n") ==
        ok_reply() + ok_reply() + kQueued + kQueued + "*2\r\n" + bulk_reply("1") + int_reply(1));
  CHECK(h.send("MULTI\r\nSET b 2\r\nEXEC\r\nGET b\r\n") ==
        ok_reply() + kQueued + "*1\r\n" + ok_reply() + bulk_reply("2"));
  CHECK(h.send("MULTI\r\nSET c 3\r\nSET d 4\r\nEXEC\r\n") ==
        ok_reply() + kQueued + kQueued + "*2\r\n" + ok_reply() + ok_reply());
  CHECK(h.send("EXISTS c d\r\n") == int_reply(2));
}

TEST_CASE("resp transactions: EXEC's replies are bounded, checked before anything is written") {
  RespOptions options;
  options.max_collected_reply_bytes = 100;
  RespHarness h(options);
  CHECK(h.call({"SET", "a", std::string(60, 'a')}) == ok_reply());
  CHECK(h.send("MULTI\r\nGET a\r\nSET b 1\r\nGET a\r\nEXEC\r\nEXISTS b\r\n") ==
        ok_reply() + kQueued + kQueued + kQueued +
            error_reply("EXECABORT Transaction discarded because command 3 ('get') would take the replies "
                        "past 100 bytes "
                        "(cairn's limit for one collected reply)") +
            int_reply(0));
}

TEST_CASE("resp transactions: a transaction's size is bounded") {
  RespOptions options;
  options.max_transaction_commands = 3;
  RespHarness h(options);
  CHECK(h.send("MULTI\r\nPING\r\nPING\r\nPING\r\nPING\r\nEXEC\r\n") ==
        ok_reply() + kQueued + kQueued + kQueued +
            error_reply("ERR a transaction may hold at most 3 commands and 67108864 bytes of arguments") +
            error_reply("EXECABORT Transaction discarded because of previous errors."));
}

}  // namespace
}  // namespace cairn::resp
