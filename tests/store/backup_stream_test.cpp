// store::open_backup_stream (src/store/backup_stream.h): the chunks a backup request sends are a
// compacted copy that opens as the store, taken while writes go on; a reader that stops early ends the
// copy instead of leaving its thread blocked.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "src/store/backup_stream.h"
#include "src/store/replica.h"
#include "tests/support/temp_dir.h"

namespace {

using cairn::test::TempDir;

std::unique_ptr<cairn::store::Replica> open_replica(const std::string& dir, bool read_only = false) {
  cairn::store::ReplicaOptions options;
  options.store.read_only = read_only;
  options.store.create_if_missing = !read_only;
  options.store.durability = cairn::Durability::kNoSync;  // What is tested is the copy, not fsync.
  auto replica = cairn::store::open_replica(dir, options);
  INFO((replica ? std::string("open") : replica.error().to_string()));
  REQUIRE(replica.has_value());
  return std::move(*replica);
}

}  // namespace

TEST_CASE("backup stream: the chunks are a copy that opens as the store, taken while writes go on") {
  TempDir dirs;
  auto store = open_replica(dirs.str() + "/data");
  for (int i = 0; i < 2000; ++i) REQUIRE(store->put("k" + std::to_string(i), std::string(200, 'v')));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) (void)store->put("during-" + std::to_string(i), "x");
  });
  auto stream = cairn::store::open_backup_stream(*store, 4096);
  REQUIRE(stream.has_value());
  std::filesystem::create_directories(dirs.str() + "/copy");
  std::ofstream out(dirs.str() + "/copy/data.mdb", std::ios::binary);
  std::size_t chunks = 0;
  for (;;) {
    auto chunk = (*stream)->next();
    REQUIRE(chunk.has_value());
    if (!*chunk) break;
    CHECK((*chunk)->size() <= 4096);
    out << **chunk;
    ++chunks;
  }
  out.close();
  stop = true;
  writer.join();
  CHECK(chunks > 10);
  auto copy = open_replica(dirs.str() + "/copy", /*read_only=*/true);
  for (int i = 0; i < 2000; ++i) CHECK(copy->get("k" + std::to_string(i)).has_value());
  CHECK((*stream)->next().value() == std::nullopt);  // Stays ended.
}

TEST_CASE("backup stream: a reader that stops after one chunk ends the copy at once") {
  TempDir dirs;
  auto store = open_replica(dirs.str() + "/data");
  std::vector<std::string> members;
  for (int i = 0; i < 20'000; ++i) members.push_back("member-" + std::to_string(i) + std::string(40, 'm'));
  REQUIRE(store->sadd("big", members));  // Megabytes: far more than a pipe holds.
  const auto started = std::chrono::steady_clock::now();
  {
    auto stream = cairn::store::open_backup_stream(*store);
    REQUIRE(stream.has_value());
    REQUIRE((*stream)->next().value().has_value());
  }  // Destroyed with the copy still writing: its writes fail (EPIPE), the thread ends.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  REQUIRE(store->put("after", "the copy ended"));  // The read transaction is gone; writes go on.
}
