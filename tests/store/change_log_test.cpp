// The change feed (src/store/change_log.h, docs/watch.md): every kind of write produces its change in
// the log, in order, in the commit that made it; resuming from a position gives every later change
// exactly once; the retention trims and an expired position is reported as such.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/store.h"
#include "src/store/change_log.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::open_store;
using test::TempDir;

// Every change after `position` under `prefix`, read batch by batch.
std::vector<Change> read_all(Store& store, const std::string& position = "", const std::string& prefix = "") {
  std::vector<Change> all;
  std::string at = position;
  for (;;) {
    auto batch = store.changes_since(prefix, at, 3);  // Small batches: resuming mid-log is exercised too.
    INFO((batch ? std::string("read") : batch.error().to_string()));
    REQUIRE(batch.has_value());
    for (Change& change : batch->changes) all.push_back(std::move(change));
    at = batch->position;
    if (batch->caught_up) return all;
  }
}

std::uint64_t sequence(const Change& change) {
  auto position = store::decode_change_position(change.position);
  REQUIRE(position.has_value());
  return position->sequence;
}

// "op key[/member] value" for compact comparisons.
std::string describe(const Change& change) {
  std::string text = std::string(to_string(change.op)) + " " + change.key;
  if (!change.member.empty()) text += "/" + change.member;
  if (!change.value.empty()) text += " " + change.value;
  if (change.deleted) text += " (deleted)";
  if (!change.local) text += " (merged)";
  return text;
}

std::vector<std::string> describe_all(const std::vector<Change>& changes) {
  std::vector<std::string> out;
  for (const Change& change : changes) out.push_back(describe(change));
  return out;
}

TEST_CASE("change feed: every kind of write produces its change, in order, with its new value") {
  TempDir dir;
  auto store = open_store(dir.str());
  REQUIRE(store->put("r", "one"));
  REQUIRE(store->put("r", "two"));
  REQUIRE(store->sadd("s", {"a", "b"}));
  REQUIRE(store->srem("s", {"a"}));
  REQUIRE(store->incr("c", 5));
  REQUIRE(store->decr("c", 7));
  REQUIRE(store->del("r"));
  REQUIRE(store->del("s"));
  REQUIRE(store->del("c"));
  const auto changes = read_all(*store);
  CHECK(describe_all(changes) == std::vector<std::string>{
                                     "put r one", "put r two", "sadd s/a", "sadd s/b", "srem s/a", "counter c 5",
                                     "counter c -2", "del r (deleted)", "srem s/b (deleted)", "del c (deleted)"});
  for (std::size_t i = 0; i < changes.size(); ++i) CHECK(sequence(changes[i]) == i + 1);
  CHECK(changes[2].kind == ValueKind::kSet);
  CHECK(changes[5].kind == ValueKind::kCounter);
  CHECK(*store->change_position() == changes.back().position);
}

TEST_CASE("change feed: a batch's changes are logged together, a refused batch logs nothing") {
  TempDir dir;
  auto store = open_store(dir.str());
  REQUIRE(store->put("x", "0"));
  const std::string before = *store->change_position();
  REQUIRE(*store->write(WriteBatch().put("b1", "v").sadd("b2", {"m"}).incr("b3", 2)));
  // A batch whose second op fails (wrong type) writes nothing, and logs nothing.
  REQUIRE_FALSE(store->write(WriteBatch().put("b4", "v").sadd("x", {"m"})).has_value());
  // A batch whose condition fails, likewise.
  REQUIRE_FALSE(*store->write(WriteBatch().put("b5", "v").expect("x", {})));
  CHECK(describe_all(read_all(*store, before)) ==
        std::vector<std::string>{"put b1 v", "sadd b2/m", "counter b3 2"});
}

TEST_CASE("change feed: merged deltas and anti-entropy repairs are logged as merged changes") {
  TempDir dir_a, dir_b;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  REQUIRE(a->put("k", "from a"));
  REQUIRE(a->sadd("s", {"m"}));
  REQUIRE(b->put("own", "b"));
  test::ship_deltas(*a, *b);
  CHECK(describe_all(read_all(*b)) ==
        std::vector<std::string>{"put own b", "put k from a (merged)", "sadd s/m (merged)"});
}

TEST_CASE("change feed: resuming from a position gives every later change once, across a restart") {
  TempDir dir;
  std::string middle;
  {
    auto store = open_store(dir.str());
    for (int i = 0; i < 10; ++i) REQUIRE(store->put("k" + std::to_string(i), "v"));
    middle = read_all(*store)[4].position;
  }
  auto store = open_store(dir.str());
  REQUIRE(store->put("k10", "v"));
  const auto after = read_all(*store, middle);
  REQUIRE(after.size() == 6);
  CHECK(after.front().key == "k5");
  CHECK(after.back().key == "k10");
  CHECK(sequence(after.back()) == 11);
  // Only keys under the prefix, but the position moves past the others.
  auto batch = store->changes_since("k1", middle, 100);
  REQUIRE(batch);
  REQUIRE(batch->changes.size() == 1);
  CHECK(batch->changes[0].key == "k10");
  CHECK(batch->position == after.back().position);
  CHECK(batch->caught_up);
}

TEST_CASE("change feed: subscribe_since delivers the backlog then live changes, none twice, none lost") {
  TempDir dir;
  StoreOptions options;
  options.durability = Durability::kNoSync;  // Many small commits: what is measured here is ordering.
  auto store = open_store(dir.str(), options);
  for (int i = 0; i < 50; ++i) REQUIRE(store->put("k" + std::to_string(i), "v"));
  const std::string start = read_all(*store)[9].position;  // After the 10th change.
  // Writers keep committing while the subscriber catches up and switches to live delivery.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 50; i < 2000 && !stop; ++i) REQUIRE(store->put("k" + std::to_string(i), "v"));
  });
  std::mutex mutex;
  std::vector<std::uint64_t> seen;
  auto id = store->subscribe_since("", start, [&](const Change& change) {
    std::lock_guard lock(mutex);
    seen.push_back(sequence(change));
  });
  REQUIRE(id.has_value());
  writer.join();
  store->unsubscribe(*id);
  const auto newest = store::decode_change_position(*store->change_position());
  REQUIRE(newest);
  std::lock_guard lock(mutex);
  REQUIRE(seen.size() == newest->sequence - 10);
  for (std::size_t i = 0; i < seen.size(); ++i) REQUIRE(seen[i] == 11 + i);
}

TEST_CASE("change feed: the retention trims the oldest changes and an older position is told it expired") {
  TempDir dir;
  StoreOptions options;
  options.change_retention.max_changes = 5;
  auto store = open_store(dir.str(), options);
  REQUIRE(store->put("k0", "v"));
  const std::string first = *store->change_position();
  for (int i = 1; i < 20; ++i) REQUIRE(store->put("k" + std::to_string(i), "v"));
  const auto kept = read_all(*store);
  REQUIRE(kept.size() == 5);
  CHECK(kept.front().key == "k15");
  auto too_old = store->changes_since("", first, 10);
  REQUIRE_FALSE(too_old.has_value());
  CHECK(too_old.error().code() == ErrorCode::kPositionExpired);
  CHECK(too_old.error().message().find("too old") != std::string::npos);
  auto subscribed = store->subscribe_since("", first, [](const Change&) { FAIL("no change may be delivered"); });
  REQUIRE_FALSE(subscribed.has_value());
  CHECK(subscribed.error().code() == ErrorCode::kPositionExpired);
  // The position just before the oldest kept change still resumes.
  auto resumed = store->changes_since("", read_all(*store)[0].position, 10);
  REQUIRE(resumed);
  CHECK(resumed->changes.size() == 4);
}

class ManualClock final : public crdt::WallClock {
 public:
  std::uint64_t now_ms() override { return now.load(); }
  std::atomic<std::uint64_t> now{1'000'000};
};

TEST_CASE("change feed: changes older than the retention's age are trimmed, the newest always kept") {
  TempDir dir;
  StoreOptions options;
  options.change_retention.max_age_ms = 60'000;
  auto clock = std::make_shared<ManualClock>();
  auto store = open_store(dir.str(), options, clock);
  REQUIRE(store->put("old1", "v"));
  REQUIRE(store->put("old2", "v"));
  clock->now += 120'000;
  REQUIRE(store->put("new", "v"));
  CHECK(describe_all(read_all(*store)) == std::vector<std::string>{"put new v"});
  clock->now += 120'000;
  REQUIRE(store->sadd("s", {"m"}));  // The newest is kept even when old: "new" goes, "s" stays.
  CHECK(describe_all(read_all(*store)) == std::vector<std::string>{"sadd s/m"});
}

TEST_CASE("change feed: a position from another store, a copy, or a malformed one is refused clearly") {
  TempDir dir_a, dir_b, dir_copy;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  REQUIRE(a->put("k", "v"));
  REQUIRE(b->put("k", "v"));
  const std::string from_a = *a->change_position();
  auto other = b->changes_since("", from_a, 10);
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().code() == ErrorCode::kPositionExpired);
  CHECK(other.error().message().find("another store") != std::string::npos);
  for (const char* bad : {"nonsense", "c1:zz:1", "c1:0000000000000000:1", "c1:00000000000000ab:"}) {
    auto malformed = a->changes_since("", bad, 10);
    REQUIRE_FALSE(malformed.has_value());
    CHECK(malformed.error().code() == ErrorCode::kInvalidArgument);
  }
  // A copy of the data directory takes a new replica id on open, and starts a new feed.
  a.reset();
  std::filesystem::copy(dir_a.str(), dir_copy.str(), std::filesystem::copy_options::recursive |
                                                         std::filesystem::copy_options::overwrite_existing);
  auto copy = open_store(dir_copy.str());
  auto from_copy = copy->changes_since("", from_a, 10);
  REQUIRE_FALSE(from_copy.has_value());
  CHECK(from_copy.error().code() == ErrorCode::kPositionExpired);
  CHECK(copy->get("k")->value == "v");
}

// The child of the crash test: writes puts, set adds and increments until killed; writes one byte to
// `ready_fd` once its first batch committed (so a loaded machine cannot make the kill come first).
[[noreturn]] void write_until_killed(const std::string& path, int ready_fd) {
  auto store = Store::open(path);
  if (!store) _exit(3);
  for (int n = 0;; ++n) {
    const std::string name = std::to_string(n);
    if (!(*store)->write(WriteBatch().put("k/" + name, name).sadd("set", {name}).incr("count"))) _exit(4);
    if (n == 0 && write(ready_fd, "r", 1) != 1) _exit(5);
  }
}

TEST_CASE("change feed: SIGKILL mid-write leaves no gap: the log holds exactly the committed changes") {
  TempDir dir;
  for (int round = 0; round < 3; ++round) {
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) write_until_killed(dir.str(), ready[1]);
    close(ready[1]);
    char byte = 0;
    const bool started = read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + 30 * round));
    REQUIRE(child > 0);
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    INFO("child exit status " << status);
    REQUIRE(started);
    REQUIRE(WIFSIGNALED(status));
  }
  auto store = open_store(dir.str());
  const auto changes = read_all(*store);
  REQUIRE_FALSE(changes.empty());
  std::set<std::string> logged_keys, logged_members;
  std::string last_count;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    REQUIRE(sequence(changes[i]) == i + 1);  // Contiguous: no gap.
    if (changes[i].op == ChangeOp::kPut) logged_keys.insert(changes[i].key);
    if (changes[i].op == ChangeOp::kSadd) logged_members.insert(changes[i].member);
    if (changes[i].key == "count") last_count = changes[i].value;
  }
  std::set<std::string> stored_keys;
  for (const std::string& key : test::drain(*store->scan("k/"))) stored_keys.insert(key);
  std::set<std::string> stored_members;
  for (const std::string& member : test::drain(**store->smembers("set"))) stored_members.insert(member);
  CHECK(logged_keys == stored_keys);
  CHECK(logged_members == stored_members);
  CHECK(last_count == std::to_string(*store->counter("count")));
  // Every batch is three changes, logged whole or not at all.
  CHECK(changes.size() % 3 == 0);
}

}  // namespace
}  // namespace cairn
