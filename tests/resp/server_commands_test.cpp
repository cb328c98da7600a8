// PING, ECHO, SELECT, INFO, COMMAND, CONFIG, WATCH/UNWATCH.
#include <catch2/catch.hpp>

#include "tests/resp/resp_test_support.h"

namespace cairn::resp {
namespace {

using test::bulk_reply;
using test::error_reply;
using test::int_reply;
using test::ok_reply;
using test::RespHarness;

NodeStatus two_members() {
  NodeStatus status;
  status.replica_id = 0xaa;
  status.ring_positions = {0x10, 0xfffffffffffffff0};
  NodeStatus::Member b{0xbb, "127.0.0.1:7410", "alive", 3, 120, true, 5, {0x20}};
  NodeStatus::Member c{0xcc, "127.0.0.1:7420", "dead", 1, 90000, false, 0, {}};
  status.members = {b, c};
  status.neighbours = {0xbb};
  return status;
}

TEST_CASE("resp server: PING, ECHO and SELECT") {
  RespHarness h;
  CHECK(h.send("PING\r\nPING hi\r\nECHO \"a b\"\r\n") == "+PONG\r\n" + bulk_reply("hi") + bulk_reply("a b"));
  CHECK(h.send("SELECT 0\r\nSELECT 1\r\nSELECT -1\r\nSELECT x\r\n") ==
        ok_reply() + error_reply("ERR DB index is out of range") +
            error_reply("ERR DB index is out of range") +
            error_reply("ERR value is not an integer or out of range"));
}

TEST_CASE("resp server: INFO carries loading:0, role:master, the keyspace and cairn's peers") {
  RespHarness h({}, two_members);
  CHECK(h.send("SET a 1\r\nSET b 2\r\n") == ok_reply() + ok_reply());
  const std::string info = h.send("INFO\r\n");
  REQUIRE(info[0] == '$');
  for (const char* line : {"# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n", "loading:0\r\n",
                           "role:master\r\nconnected_slaves:0\r\ncairn_peers:2\r\ncairn_neighbours:1\r\n",
                           "cairn_peer0:id=00000000000000bb,address=127.0.0.1:7410,state=alive,neighbour=1,"
                           "lag_entries=5,last_heard_ms_ago=120\r\n",
                           "# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n", "connected_clients:1\r\n",
                           "total_commands_processed:3\r\n"}) {
    INFO(line);
    CHECK(info.find(line) != std::string::npos);
  }
  // The bulk's length is right and sections are separated by one blank line.
  const std::size_t header_end = info.find("\r\n");
  CHECK(std::stoul(info.substr(1, header_end - 1)) == info.size() - header_end - 4);
  CHECK(info.find("\r\n\r\n# Clients\r\n") != std::string::npos);

  const std::string replication = h.send("INFO replication\r\n");
  CHECK(replication.find("# Replication\r\nrole:master") != std::string::npos);
  CHECK(replication.find("# Server") == std::string::npos);
  CHECK(h.send("INFO nosuch\r\n") == "$0\r\n\r\n");
}

TEST_CASE("resp server: INFO cairn lists the node's metrics, only when asked by name") {
  const auto metrics = [] {
    return std::vector<MetricSample>{
        {"cairn_up", "Up.", MetricType::kGauge, {}, 1},
        {"cairn_operations_total", "Ops.", MetricType::kCounter, {{"op", "put"}}, 42}};
  };
  RespHarness h({}, {}, metrics);
  CHECK(h.send("INFO\r\n").find("# Cairn") == std::string::npos);
  CHECK(h.send("INFO cairn\r\n") ==
        bulk_reply("# Cairn\r\ncairn_up:1\r\ncairn_operations_total{op=\"put\"}:42\r\n"));
  CHECK(h.send("INFO all\r\n").find("# Cairn\r\ncairn_up:1\r\n") != std::string::npos);
}

TEST_CASE("resp server: COMMAND COUNT, INFO, DOCS and LIST describe the table") {
  RespHarness h;
  CHECK(h.send("COMMAND COUNT\r\n") == int_reply(static_cast<long long>(all_commands().size())));
  CHECK(h.send("COMMAND INFO get nosuch\r\n") ==
        "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@"
        "string\r\n"
        "+@fast\r\n*0\r\n*0\r\n*0\r\n$-1\r\n");
  CHECK(h.send("COMMAND DOCS get\r\n") ==
        "*2\r\n$3\r\nget\r\n*4\r\n$7\r\nsummary\r\n$34\r\nReturns the string value of a "
        "key.\r\n$5\r\ngroup\r\n$6\r\n"
        "string\r\n");
  const std::string all = h.send("COMMAND\r\n");
  CHECK(all.substr(0, all.find("\r\n")) == "*" + std::to_string(all_commands().size()));
  CHECK(h.send("COMMAND LIST\r\n").find("$12\r\ncairn.values\r\n") != std::string::npos);
  CHECK(h.send("COMMAND FOO\r\n") == error_reply("ERR unknown subcommand 'FOO'. Try COMMAND HELP."));
}

TEST_CASE("resp server: CONFIG GET answers what clients ask, CONFIG SET changes nothing") {
  RespHarness h;
  CHECK(h.send("CONFIG GET save\r\n") == "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  CHECK(h.send("CONFIG GET appendonly\r\n") == "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  CHECK(h.send("CONFIG GET nosuch\r\n") == "*0\r\n");
  CHECK(h.send("CONFIG GET maxmemory*\r\n") ==
        "*4\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n");
  CHECK(h.send("CONFIG GET\r\n") == error_reply("ERR wrong number of arguments for 'config|get' command"));
  CHECK(h.send("CONFIG SET save \"\"\r\n") == ok_reply());
  CHECK(h.send("CONFIG SET nosuch 1\r\n") ==
        error_reply("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"));
  CHECK(
      h.send("CONFIG SET appendonly yes\r\n") ==
      error_reply(
          "ERR CONFIG SET cannot change 'appendonly' on cairn (it is 'no'); configure cairnd with its flags "
          "or config file instead"));
  CHECK(h.send("CONFIG RESETSTAT\r\n") ==
        error_reply("ERR unknown subcommand 'RESETSTAT'. Try CONFIG HELP."));
}

TEST_CASE("resp server: WATCH answers an error, UNWATCH does nothing") {
  RespHarness h;
  CHECK(h.send("WATCH k\r\n") ==
        error_reply(
            "ERR WATCH is not supported by cairn: a transaction's writes are one atomic batch, and keys "
            "change by merges from other peers at any time (see docs/resp.md)"));
  CHECK(h.send("UNWATCH\r\n") == ok_reply());
}

TEST_CASE("resp server: every command in the table has a handler or is answered by the session") {
  for (const CommandSpec& spec : all_commands()) {
    INFO(spec.name);
    CHECK((spec.handler != nullptr) != ((spec.flags & kSession) != 0));
    CHECK(find_command(spec.name) == &spec);
    CHECK(lower(spec.name) == spec.name);
  }
}

}  // namespace
}  // namespace cairn::resp
