// RESP writes go to the store asynchronously (src/resp/session.h, "Writes never hold a thread"):
// replies keep their order, a command sees the writes before it, and connections share commits.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/resp/session.h"
#include "src/resp/store_batch_writer.h"
#include "tests/resp/resp_test_support.h"

namespace cairn::resp {
namespace {

TEST_CASE("resp writes: a pipeline of 1000 SETs then GET sees the last, every reply in order") {
  test::RespHarness harness;
  std::string pipeline, expected;
  for (int i = 0; i < 1000; ++i) {
    pipeline += test::command_bytes({"SET", "k", "v" + std::to_string(i)});
    expected += test::ok_reply();
  }
  pipeline += test::command_bytes({"GET", "k"});
  expected += test::bulk_reply("v999");
  CHECK(harness.send(pipeline) == expected);
}

TEST_CASE("resp writes: pipelined read-modify-writes each see the write before them") {
  test::RespHarness harness;
  const std::string replies = harness.send(
      test::command_bytes({"SET", "n", "1"}) + test::command_bytes({"INCR", "n"}) + test::command_bytes({"INCR", "n"}) +
      test::command_bytes({"SADD", "s", "a"}) + test::command_bytes({"SADD", "s", "a"}) +
      test::command_bytes({"SET", "x", "old"}) + test::command_bytes({"SET", "x", "new", "GET"}) +
      test::command_bytes({"MULTI"}) + test::command_bytes({"INCR", "n"}) + test::command_bytes({"EXEC"}) +
      test::command_bytes({"GET", "n"}));
  CHECK(replies == test::ok_reply() + test::int_reply(2) + test::int_reply(3) + test::int_reply(1) +
                       test::int_reply(0) + test::ok_reply() + test::bulk_reply("old") + "+OK\r\n+QUEUED\r\n*1\r\n:4\r\n" +
                       test::bulk_reply("4"));
}

TEST_CASE("resp writes: a step hands the write to the store and returns before its commit") {
  test::RespHarness harness;
  RespSession& session = harness.session();
  session.receive(test::command_bytes({"SET", "k", "v"}) + test::command_bytes({"GET", "k"}));
  session.step();
  CHECK(session.writes_in_flight() == 1);
  CHECK(session.take_output().empty());  // Answered only once committed.
  CHECK(harness.run() == test::ok_reply() + test::bulk_reply("v"));
}

// 50 connections each pipelining 16 SETs: every connection has its write in the store's queue at
// once, so a commit holds many of them (asserted on the store's commit counts, never on time).
TEST_CASE("resp writes: 50 connections pipelining 16 SETs share commits (more than 8 writes each)") {
  test::TempDir dir;
  StoreOptions options;  // The default durability: group commit.
  auto store = test::open_store(dir.str(), options);
  StoreBatchWriter writer(*store);
  RespShared shared(7);
  std::vector<std::unique_ptr<RespSession>> sessions;
  std::vector<std::string> output(50);
  for (int c = 0; c < 50; ++c) {
    sessions.push_back(std::make_unique<RespSession>(Services{*store, writer}, RespOptions{}, shared));
    std::string pipeline;
    for (int i = 0; i < 16; ++i) {
      pipeline += test::command_bytes({"SET", "c" + std::to_string(c) + "-" + std::to_string(i), "v"});
    }
    sessions.back()->receive(pipeline);
  }
  auto before = store->usage();
  REQUIRE(before);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (bool busy = true; busy && std::chrono::steady_clock::now() < give_up;) {
    busy = false;
    bool stepped = false;
    for (int c = 0; c < 50; ++c) {
      RespSession& session = *sessions[c];
      while (session.has_work()) {
        session.step();
        stepped = true;
      }
      output[c] += session.take_output();
      busy = busy || session.writes_in_flight() > 0;
    }
    if (!stepped) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  std::string all_ok;
  for (int i = 0; i < 16; ++i) all_ok += test::ok_reply();
  for (int c = 0; c < 50; ++c) CHECK(output[c] == all_ok);
  auto after = store->usage();
  REQUIRE(after);
  const std::uint64_t commits = after->commits - before->commits;
  const std::uint64_t writes = after->committed_writes - before->committed_writes;
  INFO(writes << " writes in " << commits << " commits");
  CHECK(writes == 50 * 16);
  REQUIRE(commits > 0);
  CHECK(static_cast<double>(writes) / static_cast<double>(commits) > 8.0);
}

}  // namespace
}  // namespace cairn::resp
