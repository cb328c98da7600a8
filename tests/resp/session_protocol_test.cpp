// The RESP session's protocol: errors and closing, inline and pipelined commands, authentication,
// HELLO, QUIT, CLIENT, backpressure. Byte strings are checked whole, as a client sees them.
#include <catch2/catch.hpp>

#include "tests/resp/allocation_tracker.h"
#include "tests/resp/resp_test_support.h"

namespace cairn::resp {
namespace {

using test::bulk_reply;
using test::command_bytes;
using test::error_reply;
using test::int_reply;
using test::nil_reply;
using test::ok_reply;
using test::RespHarness;

RespOptions with_token(std::string token = "tok") {
  RespOptions options;
  options.client_token = std::move(token);
  return options;
}

TEST_CASE("resp session: every protocol error is answered with Redis's text, then the connection closes") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n"},
      {"*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"*1\r\n$1099511627776\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"set \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
      {std::string(70000, 'x'), "-ERR Protocol error: too big inline request\r\n"},
  };
  for (const auto& [bytes, expected] : cases) {
    INFO(bytes.substr(0, 40));
    RespHarness h;
    CHECK(h.send("PING\r\n" + bytes + "PING\r\n") == "+PONG\r\n" + expected);
    CHECK(h.session().closing());
    CHECK_FALSE(h.session().wants_input());
    CHECK(h.send("PING\r\n").empty());  // Nothing after the error is read.
    CHECK(h.shared().counters.snapshot().protocol_errors == 1);
  }
}

TEST_CASE("resp session: unknown commands and wrong arities have Redis's texts and keep the connection") {
  RespHarness h;
  CHECK(h.send("foo a b\r\n") ==
        error_reply("ERR unknown command 'foo', with args beginning with: 'a' 'b' "));
  CHECK(h.send("foo\r\n") == error_reply("ERR unknown command 'foo', with args beginning with: "));
  CHECK(h.call({"FOO", std::string(200, 'x')}) ==
        error_reply("ERR unknown command 'FOO', with args beginning with: '" + std::string(128, 'x') + "' "));
  CHECK(h.call({"bad\r\nname"}) ==
        error_reply("ERR unknown command 'bad  name', with args beginning with: "));
  CHECK(h.send("GET\r\n") == error_reply("ERR wrong number of arguments for 'get' command"));
  CHECK(h.send("set k\r\n") == error_reply("ERR wrong number of arguments for 'set' command"));
  CHECK(h.send("PING a b\r\n") == error_reply("ERR wrong number of arguments for 'ping' command"));
  CHECK(h.send("MSET a 1 b\r\n") == error_reply("ERR wrong number of arguments for 'mset' command"));
  CHECK(h.send("CLIENT SETNAME a b\r\n") ==
        error_reply("ERR wrong number of arguments for 'client|setname' command"));
  CHECK_FALSE(h.session().closing());
  CHECK(h.send("PING\r\n") == "+PONG\r\n");
}

TEST_CASE("resp session: inline commands work like multibulk ones") {
  RespHarness h;
  CHECK(h.send("SET greeting \"hello world\"\r\n") == ok_reply());
  CHECK(h.send("get greeting\n") == bulk_reply("hello world"));
  CHECK(h.send("ECHO 'it\\'s'\r\n") == bulk_reply("it's"));
}

TEST_CASE("resp session: many pipelined commands in one receive are answered in order") {
  RespHarness h;
  std::string pipeline, expected;
  for (int i = 0; i < 500; ++i) {
    pipeline += command_bytes({"SET", "k" + std::to_string(i), std::to_string(i)});
    pipeline += command_bytes({"GET", "k" + std::to_string(i)});
    pipeline += "PING\r\n";
    expected += ok_reply() + bulk_reply(std::to_string(i)) + "+PONG\r\n";
  }
  CHECK(h.send(pipeline) == expected);
}

TEST_CASE("resp session: bytes split anywhere give the same replies") {
  const std::string pipeline =
      command_bytes({"SET", "k", "v"}) + "GET k\r\n" + command_bytes({"ECHO", "a\r\nb"});
  RespHarness whole;
  const std::string expected = whole.send(pipeline);
  CHECK(expected == ok_reply() + bulk_reply("v") + bulk_reply("a\r\nb"));
  RespHarness split;
  std::string got;
  for (char byte : pipeline) got += split.send(std::string_view(&byte, 1));
  CHECK(got == expected);
}

TEST_CASE("resp session: before AUTH only AUTH, HELLO and QUIT are answered") {
  RespHarness h(with_token());
  CHECK(h.send("GET k\r\n") == error_reply("NOAUTH Authentication required."));
  CHECK(h.send("PING\r\n") == error_reply("NOAUTH Authentication required."));
  CHECK(h.send("MULTI\r\n") == error_reply("NOAUTH Authentication required."));
  CHECK_FALSE(h.session().closing());
  CHECK(h.send("AUTH wrong\r\n") ==
        error_reply("WRONGPASS invalid username-password pair or user is disabled."));
  CHECK(h.send("AUTH someone tok\r\n") ==
        error_reply("WRONGPASS invalid username-password pair or user is disabled."));
  CHECK(h.send("AUTH a b c\r\n") == error_reply("ERR syntax error"));
  CHECK(h.send("GET k\r\n") == error_reply("NOAUTH Authentication required."));
  CHECK(h.shared().counters.snapshot().authentication_failures == 2);
  CHECK(h.send("AUTH tok\r\n") == ok_reply());
  CHECK(h.send("PING\r\n") == "+PONG\r\n");

  RespHarness named(with_token());
  CHECK(named.send("AUTH default tok\r\nPING\r\n") == ok_reply() + "+PONG\r\n");
}

TEST_CASE(
    "resp session: unauthenticated requests are limited, and the limits lift with AUTH in the same "
    "pipeline") {
  RespHarness h(with_token());
  CHECK(h.send("*11\r\n") == error_reply("ERR Protocol error: unauthenticated multibulk length"));
  CHECK(h.session().closing());

  RespHarness bulk(with_token());
  CHECK(bulk.send("*2\r\n$4\r\nECHO\r\n$16385\r\n") ==
        error_reply("ERR Protocol error: unauthenticated bulk length"));
  CHECK(bulk.session().closing());

  RespHarness pipelined(with_token());
  std::vector<std::string> eleven = {"EXISTS"};
  for (int i = 0; i < 10; ++i) eleven.push_back("k");
  CHECK(pipelined.send("AUTH tok\r\n" + command_bytes(eleven) +
                       command_bytes({"ECHO", std::string(20000, 'e')})) ==
        ok_reply() + int_reply(0) + bulk_reply(std::string(20000, 'e')));
}

TEST_CASE("resp session: HELLO speaks RESP2 only and may authenticate and name the connection") {
  RespHarness h(with_token());
  // RESP3 is refused before anything else, so clients fall back to RESP2 at once.
  CHECK(h.send("HELLO 3\r\n") == error_reply("NOPROTO sorry, this protocol version is not supported"));
  CHECK(h.send("HELLO 3 AUTH default tok\r\n") ==
        error_reply("NOPROTO sorry, this protocol version is not supported"));
  CHECK(h.send("HELLO x\r\n") == error_reply("ERR Protocol version is not an integer or out of range"));
  CHECK(h.send("HELLO 2\r\n") ==
        error_reply(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
            "<user> <pass> option can be used to authenticate the client and select the RESP protocol "
            "version at the same time"));
  CHECK(h.send("HELLO 2 AUTH default\r\n") == error_reply("ERR Syntax error in HELLO option 'AUTH'"));
  CHECK(h.send("HELLO 2 AUTH default nope\r\n") ==
        error_reply("WRONGPASS invalid username-password pair or user is disabled."));
  const std::string id = std::to_string(h.session().client_id());
  CHECK(h.send("HELLO 2 AUTH default tok SETNAME app1\r\n") ==
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:2\r\n$"
        "2\r\nid\r\n:" +
            id +
            "\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
  CHECK(h.send("CLIENT GETNAME\r\n") == bulk_reply("app1"));
  CHECK(h.send("PING\r\n") == "+PONG\r\n");
  CHECK(h.send("HELLO\r\n").substr(0, 5) == "*14\r\n");  // Authenticated now: HELLO alone answers.
}

TEST_CASE("resp session: QUIT answers OK and closes, also before AUTH") {
  RespHarness h(with_token());
  CHECK(h.send("QUIT\r\nPING\r\n") == ok_reply());
  CHECK(h.session().closing());
}

TEST_CASE("resp session: CLIENT ID, SETNAME, GETNAME, INFO and SETINFO") {
  RespHarness h;
  CHECK(h.send("CLIENT ID\r\n") == int_reply(static_cast<long long>(h.session().client_id())));
  CHECK(h.send("CLIENT GETNAME\r\n") == nil_reply());
  CHECK(h.send("CLIENT SETNAME worker-7\r\nCLIENT GETNAME\r\n") == ok_reply() + bulk_reply("worker-7"));
  CHECK(h.send("CLIENT SETNAME \"a b\"\r\n") ==
        error_reply("ERR Client names cannot contain spaces, newlines or special characters."));
  CHECK(h.send("CLIENT SETINFO lib-name redis-py\r\nCLIENT SETINFO LIB-VER 5.0.1\r\n") ==
        ok_reply() + ok_reply());
  CHECK(h.send("CLIENT SETINFO color blue\r\n") == error_reply("ERR Unrecognized option 'color'"));
  const std::string info = h.send("CLIENT INFO\r\n");
  CHECK(info.find("name=worker-7 db=0 multi=-1 resp=2 lib-name=redis-py lib-ver=5.0.1\n") !=
        std::string::npos);
  CHECK(h.send("CLIENT NOPE\r\n") == error_reply("ERR unknown subcommand 'NOPE'. Try CLIENT HELP."));
}

TEST_CASE("resp session: too many unanswered commands stop the reading until steps make room") {
  RespOptions options;
  options.max_in_flight_commands = 4;
  RespHarness h(options);
  std::string pipeline;
  for (int i = 0; i < 10; ++i) pipeline += "PING\r\n";
  h.session().receive(pipeline);
  CHECK_FALSE(h.session().wants_input());
  std::string replies = h.run();  // Steps read the rest as they make room.
  CHECK(replies == [] {
    std::string all;
    for (int i = 0; i < 10; ++i) all += "+PONG\r\n";
    return all;
  }());
  CHECK(h.session().wants_input());
}

TEST_CASE("resp session: after the input ends, what came is answered and then the session closes") {
  RespHarness h;
  h.session().receive("PING\r\n*2\r\n$3\r\nGET\r\n$1\r\n");  // The second command never completes.
  h.session().end_of_input();
  CHECK_FALSE(h.session().closing());
  CHECK(h.run() == "+PONG\r\n");
  CHECK(h.session().closing());
}

TEST_CASE("resp session: bad input gets its error and closes without allocating what it announced") {
  SECTION("a 2^40 bulk length") {
    RespHarness h;
    test::reset_largest_allocation();
    CHECK(h.send("*2\r\n$3\r\nGET\r\n$1099511627776\r\n") ==
          error_reply("ERR Protocol error: invalid bulk length"));
    CHECK(test::largest_allocation() < 64 * 1024);
    CHECK(h.session().closing());
  }
  SECTION("a million-element multibulk header before AUTH") {
    RespHarness h(with_token());
    test::reset_largest_allocation();
    CHECK(h.send("*1000000\r\n") == error_reply("ERR Protocol error: unauthenticated multibulk length"));
    CHECK(test::largest_allocation() < 64 * 1024);
    CHECK(h.session().closing());
  }
  SECTION("a million-element multibulk header after AUTH waits for its elements, allocating little") {
    RespHarness h;
    test::reset_largest_allocation();
    CHECK(h.send("*1000000\r\n$4\r\nECHO\r\n").empty());
    CHECK(test::largest_allocation() < 128 * 1024);
    CHECK_FALSE(h.session().closing());
  }
  SECTION("an unterminated bulk waits, and the session closes at the end of the input with no reply") {
    RespHarness h;
    CHECK(h.send("*2\r\n$4\r\nECHO\r\n$10\r\nabc").empty());
    h.session().end_of_input();
    CHECK(h.run().empty());
    CHECK(h.session().closing());
  }
}

}  // namespace
}  // namespace cairn::resp

namespace cairn::resp {
namespace {

// The listener runs a quick step on the loop thread (src/net/session_server.h): fast reads, and
// handing a small write to the store (which returns at once: the commit completes later, elsewhere);
// never a transaction, whose plan may read without bound, nor a write of many keys.
TEST_CASE("resp session: fast reads and handing small writes to the store are quick steps, never an EXEC") {
  test::RespHarness harness;
  RespSession& session = harness.session();
  CHECK_FALSE(session.next_step_is_quick());  // Nothing queued.
  session.receive(test::command_bytes({"GET", "k"}));
  CHECK(session.next_step_is_quick());
  session.step();
  CHECK(session.take_output() == test::nil_reply());

  session.receive(test::command_bytes({"SET", "k", "v"}));
  CHECK(session.next_step_is_quick());
  session.step();  // Planned and handed to the store; no thread waits for the commit.
  CHECK(session.writes_in_flight() == 1);
  CHECK(harness.run() == test::ok_reply());
  CHECK(session.writes_in_flight() == 0);

  session.receive(test::command_bytes({"SET", "k", "w"}) + test::command_bytes({"EXISTS", "k"}));
  CHECK(session.next_step_is_quick());
  session.step();
  CHECK_FALSE(session.next_step_is_quick());  // EXISTS waits for the write before it.
  CHECK(harness.run() == test::ok_reply() + test::int_reply(1));

  std::vector<std::string> mset{"MSET"};
  for (int i = 0; i < 20; ++i) mset.insert(mset.end(), {"m" + std::to_string(i), "v"});
  session.receive(test::command_bytes(mset));
  CHECK_FALSE(session.next_step_is_quick());  // Forty keys to plan: on the worker.
  CHECK(harness.run() == test::ok_reply());

  session.receive(test::command_bytes({"MULTI"}) + test::command_bytes({"GET", "k"}) + test::command_bytes({"EXEC"}));
  CHECK_FALSE(session.next_step_is_quick());  // A transaction runs on the worker.
  CHECK(harness.run() == "+OK\r\n+QUEUED\r\n*1\r\n$1\r\nw\r\n");
}

}  // namespace
}  // namespace cairn::resp
