// CAIRN.VALUES, CAIRN.INSPECT, CAIRN.PEERS, CAIRN.RING.
#include <catch2/catch.hpp>

#include "tests/resp/resp_test_support.h"

namespace cairn::resp {
namespace {

using test::array_reply;
using test::RespHarness;

TEST_CASE("resp cairn: CAIRN.VALUES lists a register's concurrent values, winner first") {
  test::TempDir other_dir;
  RespHarness h;
  auto other = test::open_store(other_dir.str(), test::fast_store_options());
  CHECK(h.send("CAIRN.VALUES k\r\n") == "*0\r\n");
  REQUIRE(h.store().put("k", "here"));
  REQUIRE(other->put("k", "there"));
  test::ship_deltas(*other, h.store());
  const auto value = h.store().get("k");
  REQUIRE(value);
  REQUIRE(value->concurrent.size() == 1);
  CHECK(h.send("CAIRN.VALUES k\r\n") == array_reply({value->value, value->concurrent[0]}));
  CHECK(h.send("GET k\r\n") == test::bulk_reply(value->value));
  CHECK(h.send("INCRBY c 3\r\nCAIRN.VALUES c\r\n") == ":3\r\n" + array_reply({"3"}));
  CHECK(h.send("SADD s m\r\nCAIRN.VALUES s\r\n") ==
        ":1\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
}

TEST_CASE("resp cairn: CAIRN.INSPECT shows a key's kinds, writer, versions and version vector") {
  RespHarness h;
  CHECK(h.send("CAIRN.INSPECT nope\r\n") == "*-1\r\n");
  REQUIRE(h.store().put("k", "v"));
  const std::string replica = [&] {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h.store().replica_id()));
    return std::string(text);
  }();
  const std::string reply = h.send("CAIRN.INSPECT k\r\n");
  CHECK(reply.substr(0, 5) == "*20\r\n");
  for (const std::string& part : std::vector<std::string>{
           "$5\r\nkinds\r\n*1\r\n$8\r\nregister\r\n", "$6\r\nwriter\r\n$16\r\n" + replica + "\r\n",
           "$8\r\nversions\r\n*1\r\n*3\r\n$1\r\nv\r\n",
           "$14\r\nversion_vector\r\n*1\r\n$18\r\n" + replica + ":1\r\n"}) {
    INFO(part);
    CHECK(reply.find(part) != std::string::npos);
  }
}

TEST_CASE("resp cairn: CAIRN.PEERS and CAIRN.RING show the node's view, or say there is no node") {
  RespHarness bare;
  CHECK(bare.send("CAIRN.PEERS\r\n") ==
        "-ERR this cairn store runs without a node: there are no peers to show\r\n");
  const auto status = [] {
    NodeStatus s;
    s.replica_id = 0xaa;
    s.ring_positions = {0x10};
    s.members = {NodeStatus::Member{0xbb, "127.0.0.1:7410", "alive", 3, 120, true, 5, {0x20, 0x30}}};
    return s;
  };
  RespHarness h({}, status);
  CHECK(h.send("CAIRN.PEERS\r\n") ==
        "*1\r\n*14\r\n$2\r\nid\r\n$16\r\n00000000000000bb\r\n$7\r\naddress\r\n$14\r\n127.0.0.1:7410\r\n$"
        "5\r\nstate\r\n"
        "$5\r\nalive\r\n$11\r\nincarnation\r\n:3\r\n$17\r\nlast_heard_ms_ago\r\n:120\r\n$9\r\nneighbour\r\n:"
        "1\r\n"
        "$11\r\nlag_entries\r\n:5\r\n");
  CHECK(h.send("CAIRN.RING\r\n") ==
        "*2\r\n*3\r\n$16\r\n00000000000000aa\r\n$4\r\nself\r\n*1\r\n$16\r\n0000000000000010\r\n"
        "*3\r\n$16\r\n00000000000000bb\r\n$5\r\nalive\r\n*2\r\n$16\r\n0000000000000020\r\n$"
        "16\r\n0000000000000030\r\n");
}

}  // namespace
}  // namespace cairn::resp
