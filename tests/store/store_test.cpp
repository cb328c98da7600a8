#include "cairn/store.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::drain;
using test::open_store;
using test::ship_deltas;
using test::TempDir;

TEST_CASE("store: put then get returns the value, overwrite replaces it") {
  TempDir dir;
  auto store = open_store(dir.str());
  REQUIRE(store->put("greeting", "hello"));
  auto value = store->get("greeting");
  REQUIRE(value);
  CHECK(value->value == "hello");
  CHECK(value->concurrent.empty());

  REQUIRE(store->put("greeting", "bonjour"));
  CHECK(store->get("greeting")->value == "bonjour");
  CHECK(store->get("greeting")->concurrent.empty());
}

TEST_CASE("store: absent and deleted keys are not found, deleting an absent key succeeds") {
  TempDir dir;
  auto store = open_store(dir.str());
  CHECK(store->get("nothing").error().code() == ErrorCode::kNotFound);
  CHECK(store->del("nothing"));
  REQUIRE(store->put("k", "v"));
  REQUIRE(store->del("k"));
  CHECK(store->get("k").error().code() == ErrorCode::kNotFound);
  CHECK(store->kind("k").error().code() == ErrorCode::kNotFound);
}

TEST_CASE("store: data, replica id and delta sequence survive close and reopen") {
  TempDir dir;
  std::uint64_t replica = 0;
  {
    auto store = open_store(dir.str());
    replica = store->replica_id();
    CHECK(replica != 0);
    REQUIRE(store->put("k", "v"));
    REQUIRE(store->sadd("s", {"a", "b"}));
    REQUIRE(store->incr("c", 5));
  }
  auto store = open_store(dir.str());
  CHECK(store->replica_id() == replica);
  CHECK(store->get("k")->value == "v");
  CHECK(*store->sismember("s", "b"));
  CHECK(*store->counter("c") == 5);
  REQUIRE(store->put("k", "v2"));
  auto deltas = store->deltas_since(0, 100);
  REQUIRE(deltas);
  REQUIRE(deltas->size() == 4);
  for (std::size_t i = 0; i < deltas->size(); ++i) CHECK((*deltas)[i].sequence == i + 1);
}

TEST_CASE("store: operations on the wrong kind of key fail with wrong_type") {
  TempDir dir;
  auto store = open_store(dir.str());
  REQUIRE(store->put("reg", "v"));
  REQUIRE(store->sadd("set", {"m"}));
  REQUIRE(store->incr("count"));

  CHECK(store->sadd("reg", {"m"}).error().code() == ErrorCode::kWrongType);
  CHECK(store->incr("reg").error().code() == ErrorCode::kWrongType);
  CHECK(store->put("set", "v").error().code() == ErrorCode::kWrongType);
  CHECK(store->get("set").error().code() == ErrorCode::kWrongType);
  CHECK(store->get("count").error().code() == ErrorCode::kWrongType);
  CHECK(store->counter("reg").error().code() == ErrorCode::kWrongType);
  CHECK(store->sismember("count", "m").error().code() == ErrorCode::kWrongType);
  CHECK(store->smembers("reg").error().code() == ErrorCode::kWrongType);
  CHECK(store->get("set").error().message().find("holds a set") != std::string::npos);

  CHECK(*store->kind("reg") == ValueKind::kRegister);
  CHECK(*store->kind("set") == ValueKind::kSet);
  CHECK(*store->kind("count") == ValueKind::kCounter);

  // Once deleted, a key may be reused as another kind.
  REQUIRE(store->del("reg"));
  CHECK(store->sadd("reg", {"m"}));
}

TEST_CASE("store: set members are added, tested, streamed in order and removed") {
  TempDir dir;
  auto store = open_store(dir.str());
  REQUIRE(store->sadd("s", {"pear", "apple", "fig"}));
  CHECK(*store->sismember("s", "apple"));
  CHECK_FALSE(*store->sismember("s", "kiwi"));
  CHECK_FALSE(*store->sismember("absent", "kiwi"));

  auto members = store->smembers("s");
  REQUIRE(members);
  CHECK(drain(**members) == std::vector<std::string>{"apple", "fig", "pear"});

  REQUIRE(store->srem("s", {"fig", "kiwi"}));
  CHECK(drain(**store->smembers("s")) == std::vector<std::string>{"apple", "pear"});
  REQUIRE(store->srem("s", {"apple", "pear"}));
  CHECK(store->kind("s").error().code() == ErrorCode::kNotFound);
  CHECK(drain(**store->smembers("s")).empty());
}

TEST_CASE("store: smembers streams a set larger than one cursor batch") {
  TempDir dir;
  auto store = open_store(dir.str());
  std::vector<std::string> expected;
  for (int i = 0; i < 1000; ++i) expected.push_back("member-" + std::to_string(10000 + i));
  REQUIRE(store->sadd("big", expected));
  CHECK(drain(**store->smembers("big")) == expected);
}

TEST_CASE("store: counters count up and down, and start over after a delete") {
  TempDir dir;
  auto store = open_store(dir.str());
  CHECK(store->counter("c").error().code() == ErrorCode::kNotFound);
  REQUIRE(store->incr("c", 10));
  REQUIRE(store->decr("c", 15));
  CHECK(*store->counter("c") == -5);
  REQUIRE(store->del("c"));
  CHECK(store->counter("c").error().code() == ErrorCode::kNotFound);
  REQUIRE(store->incr("c", 2));
  CHECK(*store->counter("c") == 2);
}

TEST_CASE("store: scan lists live keys under a prefix in byte order, across batches") {
  TempDir dir;
  auto store = open_store(dir.str());
  std::vector<std::string> expected;
  for (int i = 0; i < 600; ++i) {
    const std::string key = "user/" + std::to_string(1000 + i);
    expected.push_back(key);
    if (i % 3 == 0) {
      REQUIRE(store->put(key, "v"));
    } else if (i % 3 == 1) {
      REQUIRE(store->sadd(key, {"a", "b", "c"}));
    } else {
      REQUIRE(store->incr(key));
    }
  }
  REQUIRE(store->put("other", "v"));
  REQUIRE(store->put("user", "v"));  // The prefix itself without the slash: not under "user/".
  REQUIRE(store->put("user/gone", "v"));
  REQUIRE(store->del("user/gone"));
  REQUIRE(store->incr("user/zz-deleted-counter"));
  REQUIRE(store->del("user/zz-deleted-counter"));  // Leaves only reset entries: not live.

  CHECK(drain(*store->scan("user/")) == expected);
  auto all = drain(*store->scan(""));
  CHECK(all.size() == expected.size() + 2);
}

TEST_CASE("store: keys with zero bytes and 0xff bytes sort and scan correctly") {
  TempDir dir;
  auto store = open_store(dir.str());
  const std::string a("a", 1), a0("a\0", 2), a00("a\0\0", 3), aff("a\xff", 2), ab("ab", 2);
  for (const auto& key : {ab, aff, a00, a0, a}) REQUIRE(store->put(key, key));
  CHECK(drain(*store->scan("a")) == std::vector<std::string>{a, a0, a00, ab, aff});
  CHECK(drain(*store->scan(a0)) == std::vector<std::string>{a0, a00});
  CHECK(store->get(a0)->value == a0);
}

TEST_CASE("store: limits are enforced with clear errors and nothing written") {
  TempDir dir;
  auto store = open_store(dir.str());
  CHECK(store->put("", "v").error().code() == ErrorCode::kInvalidArgument);
  const std::string longest_key(kMaxKeyBytes, 'k');
  CHECK(store->put(longest_key, "v"));
  auto too_long = store->put(longest_key + "k", "v");
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().code() == ErrorCode::kLimitExceeded);
  CHECK(too_long.error().message().find("250") != std::string::npos);
  CHECK(store->sadd("s", {std::string(kMaxMemberBytes + 1, 'm')}).error().code() == ErrorCode::kLimitExceeded);
  CHECK(store->kind("s").error().code() == ErrorCode::kNotFound);

  const std::string largest(kMaxValueBytes, 'v');
  REQUIRE(store->put("large", largest));
  CHECK(store->get("large")->value == largest);
  CHECK(store->put("larger", largest + "v").error().code() == ErrorCode::kLimitExceeded);
  CHECK(store->get("larger").error().code() == ErrorCode::kNotFound);
}

TEST_CASE("store: a second writer on the same directory is refused, a read-only reader is not") {
  TempDir dir;
  auto store = open_store(dir.str());
  REQUIRE(store->put("k", "v"));
  auto second = Store::open(dir.str());
  REQUIRE_FALSE(second);
  CHECK(second.error().code() == ErrorCode::kUnavailable);
  CHECK(second.error().message().find("in use") != std::string::npos);

  // A read-only reader in another process (as `cairn dump` beside a running peer) reads while the
  // writer is open. It must be another process: LMDB forbids opening one environment twice in a process.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    StoreOptions read_only;
    read_only.read_only = true;
    auto reader = Store::open(dir.str(), read_only);
    if (!reader) {
      std::fprintf(stderr, "read-only open failed: %s\n", reader.error().to_string().c_str());
      _exit(10);
    }
    auto value = (*reader)->get("k");
    if (!value || value->value != "v") _exit(11);
    auto refused = (*reader)->put("k", "w");
    _exit(!refused && refused.error().code() == ErrorCode::kUnavailable ? 0 : 12);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("store: opening a missing store without create_if_missing fails with not_found") {
  TempDir dir;
  StoreOptions options;
  options.create_if_missing = false;
  auto store = Store::open((dir.path() / "none").string(), options);
  REQUIRE_FALSE(store);
  CHECK(store.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("store: concurrent writers from many threads all land (group commit)") {
  TempDir dir;
  auto store = open_store(dir.str());
  constexpr int kThreads = 8, kWrites = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        if (!store->put("t" + std::to_string(t) + "/" + std::to_string(i), std::to_string(i))) ++failures;
        if (!store->incr("shared")) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(*store->counter("shared") == kThreads * kWrites);
  CHECK(drain(*store->scan("t")).size() == static_cast<std::size_t>(kThreads * kWrites));
}

TEST_CASE("store: subscribers hear local and merged changes under their prefix") {
  TempDir dir_a, dir_b;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  std::vector<Change> heard;
  std::mutex heard_mutex;
  const auto id = b->subscribe("watch/", [&](const Change& change) {
    std::lock_guard lock(heard_mutex);
    heard.push_back(change);
  });
  REQUIRE(b->put("watch/local", "v"));
  REQUIRE(b->put("elsewhere", "v"));
  REQUIRE(a->sadd("watch/remote", {"m"}));
  ship_deltas(*a, *b);
  b->unsubscribe(id);
  REQUIRE(b->put("watch/after", "v"));

  std::lock_guard lock(heard_mutex);
  REQUIRE(heard.size() == 2);
  CHECK(heard[0].key == "watch/local");
  CHECK(heard[0].local);
  CHECK(heard[0].kind == ValueKind::kRegister);
  CHECK(heard[1].key == "watch/remote");
  CHECK_FALSE(heard[1].local);
  CHECK(heard[1].kind == ValueKind::kSet);
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

TEST_CASE("store: remembered cluster members survive a restart and are replaced by id") {
  test::TempDir dir;
  {
    auto store = test::open_store(dir.str());
    REQUIRE(store->load_peers()->empty());
    REQUIRE(store->save_peers({PeerRecord{7, "127.0.0.1", 7400, 0, 1}, PeerRecord{9, "127.0.0.2", 7400, 1, 4}}));
    REQUIRE(store->save_peers({PeerRecord{7, "127.0.0.1", 7400, 2, 3}}));
  }
  auto store = test::open_store(dir.str());
  auto peers = store->load_peers();
  REQUIRE(peers);
  REQUIRE(peers->size() == 2);
  CHECK((*peers)[0].id == 7);
  CHECK((*peers)[0].status == 2);
  CHECK((*peers)[0].incarnation == 3);
  CHECK((*peers)[1].host == "127.0.0.2");
  CHECK((*peers)[1].incarnation == 4);
}

}  // namespace
}  // namespace cairn
