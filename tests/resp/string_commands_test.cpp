// GET, SET and its options, SETNX, GETSET, MGET, MSET, STRLEN, APPEND, and the type rules of strings
// (docs/resp.md, "Type rules").
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

const std::string kWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";

TEST_CASE("resp strings: GET and SET of registers, nil for an absent key") {
  RespHarness h;
  CHECK(h.send("GET k\r\n") == nil_reply());
  CHECK(h.send("SET k v1\r\nGET k\r\nSET k v2\r\nGET k\r\n") ==
        ok_reply() + bulk_reply("v1") + ok_reply() + bulk_reply("v2"));
  CHECK(h.call({"SET", "bin", std::string("\0\r\n", 3)}) == ok_reply());
  CHECK(h.call({"GET", "bin"}) == bulk_reply(std::string("\0\r\n", 3)));
  CHECK(h.store().get("k")->value == "v2");
}

TEST_CASE("resp strings: a value up to the store's limit is taken, the store's key limits come back as ERR") {
  RespHarness h;
  const std::string big(kMaxValueBytes, 'v');
  CHECK(h.call({"SET", "big", big}) == ok_reply());
  CHECK(h.call({"STRLEN", "big"}) == int_reply(static_cast<long long>(kMaxValueBytes)));
  CHECK(h.send("APPEND big x\r\n") ==
        error_reply("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  CHECK(h.call({"SET", std::string(251, 'k'), "v"}) ==
        error_reply("ERR key of 251 bytes exceeds the limit of 250"));
  CHECK(h.call({"SET", "", "v"}) == error_reply("ERR a key must not be empty"));
}

TEST_CASE(
    "resp strings: SET's options are parsed as Redis parses them, and expiry is refused until cairn has it") {
  RespHarness h;
  CHECK(h.send("SET k v NX XX\r\n") == error_reply("ERR syntax error"));
  CHECK(h.send("SET k v BAD\r\n") == error_reply("ERR syntax error"));
  CHECK(h.send("SET k v EX\r\n") == error_reply("ERR syntax error"));
  CHECK(h.send("SET k v PX 1 EX 2\r\n") == error_reply("ERR syntax error"));
  const std::string no_expiry = error_reply(
      "ERR cairn does not support key expiry yet (EX, PX, EXAT, PXAT, KEEPTTL and the EXPIRE family)");
  CHECK(h.send("SET k v EX 10\r\n") == no_expiry);
  CHECK(h.send("SET k v px 10\r\n") == no_expiry);
  CHECK(h.send("SET k v KEEPTTL\r\n") == no_expiry);
  CHECK(h.send("SETEX k 10 v\r\n") == no_expiry);
  CHECK(h.send("EXPIRE k 10\r\n") == no_expiry);
  CHECK(h.send("GET k\r\n") == nil_reply());  // Nothing was written.
}

TEST_CASE("resp strings: SET NX, SET XX and SETNX decide on what this peer holds") {
  RespHarness h;
  CHECK(h.send("SET k v XX\r\n") == nil_reply());
  CHECK(h.send("GET k\r\n") == nil_reply());
  CHECK(h.send("SET k v1 NX\r\n") == ok_reply());
  CHECK(h.send("SET k v2 NX\r\n") == nil_reply());
  CHECK(h.send("SET k v3 XX\r\n") == ok_reply());
  CHECK(h.send("SETNX k v4\r\nSETNX other v5\r\n") == int_reply(0) + int_reply(1));
  CHECK(h.send("MGET k other\r\n") == test::array_reply({"v3", "v5"}));
  // A conditional write goes to the batch writer with the expectation that the key is as it was read.
  REQUIRE_FALSE(h.recorder().batches.empty());
}

TEST_CASE("resp strings: SET GET and GETSET answer the value they replaced") {
  RespHarness h;
  CHECK(h.send("GETSET k a\r\n") == nil_reply());
  CHECK(h.send("SET k b GET\r\n") == bulk_reply("a"));
  CHECK(h.send("SET k c NX GET\r\n") == bulk_reply("b"));  // NX: not set, the old value answered.
  CHECK(h.send("GET k\r\n") == bulk_reply("b"));
  CHECK(h.send("SADD s m\r\nGETSET s v\r\nSET s v GET\r\n") ==
        int_reply(1) + error_reply(kWrongType) + error_reply(kWrongType));
}

TEST_CASE("resp strings: conditional writes are one batch under the expectation of what was read") {
  RespHarness h;
  CHECK(h.send("SETNX k v\r\nGET k\r\n") == int_reply(1) + bulk_reply("v"));
  CHECK(h.recorder().batches.back() == std::vector<WriteOp>{{WriteOp::Kind::kPut, "k", "v", {}, 0}});
  CHECK(h.send("APPEND k x\r\nGET k\r\n") == int_reply(2) + bulk_reply("vx"));
  // SETNX of a present key writes nothing.
  const std::size_t batches = h.recorder().batches.size();
  CHECK(h.send("SETNX k w\r\nGET k\r\n") == int_reply(0) + bulk_reply("vx"));
  CHECK(h.recorder().batches.size() == batches);
  CHECK(h.send("SET k y NX\r\nSET k z XX GET\r\nGETSET k w\r\nGET k\r\n") ==
        nil_reply() + bulk_reply("vx") + bulk_reply("z") + bulk_reply("w"));
}

TEST_CASE("resp strings: MGET answers nil for absent keys and keys of another type") {
  RespHarness h;
  CHECK(h.send("SET a 1\r\nSADD s m\r\nINCR c\r\n") == ok_reply() + int_reply(1) + int_reply(1));
  CHECK(h.send("MGET a nope s c\r\n") == "*4\r\n$1\r\n1\r\n$-1\r\n$-1\r\n$1\r\n1\r\n");
}

TEST_CASE("resp strings: an MGET reply past the collected-reply limit is refused") {
  RespOptions options;
  options.max_collected_reply_bytes = 100;
  RespHarness h(options);
  CHECK(h.call({"SET", "a", std::string(60, 'a')}) == ok_reply());
  CHECK(h.call({"SET", "b", std::string(60, 'b')}) == ok_reply());
  CHECK(h.send("MGET a\r\n") == "*1\r\n" + bulk_reply(std::string(60, 'a')));
  CHECK(h.send("MGET a b\r\n") ==
        error_reply(
            "ERR the reply to mget would pass 100 bytes (cairn's limit for one collected reply); ask for "
            "fewer keys at once"));
}

TEST_CASE("resp strings: MSET writes every pair in one batch, and a failing pair writes none") {
  RespHarness h;
  CHECK(h.send("MSET a 2 b 3 a 4\r\nMGET a b\r\n") == ok_reply() + "*2\r\n$1\r\n4\r\n$1\r\n3\r\n");
  REQUIRE(h.recorder().batches.size() == 1);
  CHECK(h.recorder().batches[0].size() == 3);
  // Each pair is a SET, which replaces a set or counter key (a delete and a put), all in the batch.
  CHECK(h.send("SADD s m\r\nMSET s v t w\r\nMGET s t\r\n") ==
        int_reply(1) + ok_reply() + "*2\r\n$1\r\nv\r\n$1\r\nw\r\n");
  // A pair over the store's key limit fails the whole MSET: nothing of it is written.
  CHECK(h.call({"MSET", "u", "1", std::string(kMaxKeyBytes + 1, 'k'), "2"}).substr(0, 4) == "-ERR");
  CHECK(h.send("EXISTS u\r\n") == int_reply(0));
}

TEST_CASE("resp strings: STRLEN and APPEND") {
  RespHarness h;
  CHECK(h.send("STRLEN k\r\nAPPEND k abc\r\nAPPEND k de\r\nSTRLEN k\r\nGET k\r\n") ==
        int_reply(0) + int_reply(3) + int_reply(5) + int_reply(5) + bulk_reply("abcde"));
  CHECK(h.send("SADD s m\r\nSTRLEN s\r\nAPPEND s x\r\n") ==
        int_reply(1) + error_reply(kWrongType) + error_reply(kWrongType));
}

TEST_CASE("resp type rules: GET of a counter answers its value, STRLEN its length") {
  RespHarness h;
  CHECK(h.send("INCRBY c 42\r\nGET c\r\nSTRLEN c\r\nTYPE c\r\n") ==
        int_reply(42) + bulk_reply("42") + int_reply(2) + "+string\r\n");
  CHECK(h.send("DECRBY c 50\r\nGET c\r\n") == int_reply(-8) + bulk_reply("-8"));
}

TEST_CASE("resp type rules: SET over a set or counter key replaces it, as one batch of a delete and a put") {
  RespHarness h;
  CHECK(h.send("SADD k a b\r\nSET k v\r\nGET k\r\nTYPE k\r\n") ==
        int_reply(2) + ok_reply() + bulk_reply("v") + "+string\r\n");
  CHECK(h.store().kind("k") == ValueKind::kRegister);
  REQUIRE_FALSE(h.recorder().batches.empty());
  CHECK(h.recorder().batches.back() ==
        std::vector<WriteOp>{{WriteOp::Kind::kDel, "k", {}, {}, 0}, {WriteOp::Kind::kPut, "k", "v", {}, 0}});
  CHECK(h.send("INCR c\r\nSET c x\r\nGET c\r\n") == int_reply(1) + ok_reply() + bulk_reply("x"));

}

TEST_CASE(
    "resp type rules: a key written as two kinds on two peers reads as its register, and SET resolves it") {
  test::TempDir other_dir;
  RespHarness h;
  auto other = test::open_store(other_dir.str(), test::fast_store_options());
  REQUIRE(h.store().put("k", "v"));
  REQUIRE(other->sadd("k", {"m"}));
  test::ship_deltas(*other, h.store());  // Concurrent: neither had seen the other's write.
  CHECK(h.send("GET k\r\nTYPE k\r\n") == bulk_reply("v") + "+string\r\n");
  CHECK(h.send("SADD k x\r\n") == error_reply(kWrongType));
  // SET deletes what this peer has seen of both kinds and puts the register.
  CHECK(h.send("SET k w\r\nGET k\r\nSISMEMBER k m\r\n") ==
        ok_reply() + bulk_reply("w") + error_reply(kWrongType));
  CHECK(h.store().inspect("k")->kinds == std::vector<ValueKind>{ValueKind::kRegister});
}

}  // namespace
}  // namespace cairn::resp
