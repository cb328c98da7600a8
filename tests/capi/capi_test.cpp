// The C API (include/cairn/cairn.h) over a real store and two in-process nodes: every call family, the
// error codes and messages, cursors, subscriptions, and that bad handles come back as codes, not
// crashes. Label unit, so the sanitizer pass of .ci/run runs it too (leaks across the C boundary).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "tests/support/temp_dir.h"

namespace {

using cairn::test::TempDir;

// Opens a store in `dir` with the defaults, or fails the test.
cairn_store* open_store(const TempDir& dir) {
  cairn_store* store = nullptr;
  const cairn_code opened = cairn_store_open(dir.str().c_str(), nullptr, &store);
  INFO(cairn_last_error_message());
  REQUIRE(opened == CAIRN_OK);
  REQUIRE(store != nullptr);
  return store;
}

// Closes a store when the test ends, also when it fails.
struct StoreCloser {
  cairn_store* store;
  ~StoreCloser() { cairn_store_close(store); }
};

cairn_code put(cairn_store* store, const std::string& key, const std::string& value) {
  return cairn_put(store, key.data(), key.size(), value.data(), value.size());
}

// The value of `key`, or "<code_name>" when the read fails.
std::string get(cairn_store* store, const std::string& key) {
  char* value = nullptr;
  size_t size = 0;
  const cairn_code read = cairn_get(store, key.data(), key.size(), &value, &size);
  if (read != CAIRN_OK) return std::string("<") + cairn_code_name(read) + ">";
  std::string copy(value, size);
  CHECK(value[size] == '\0');
  cairn_free(value);
  return copy;
}

// Drains a cursor; destroys it.
std::vector<std::string> drain(cairn_cursor* cursor) {
  std::vector<std::string> items;
  for (;;) {
    const char* item = nullptr;
    size_t size = 0;
    REQUIRE(cairn_cursor_next(cursor, &item, &size) == CAIRN_OK);
    if (item == nullptr) break;
    items.emplace_back(item, size);
  }
  cairn_cursor_destroy(cursor);
  return items;
}

cairn_code sadd(cairn_store* store, const std::string& key, const std::vector<std::string>& members) {
  std::vector<const char*> data;
  std::vector<size_t> sizes;
  for (const std::string& member : members) {
    data.push_back(member.data());
    sizes.push_back(member.size());
  }
  return cairn_sadd(store, key.data(), key.size(), data.data(), sizes.data(), members.size());
}

}  // namespace

TEST_CASE("C API: versions, code names and the SONAME major agree with the header") {
  CHECK(cairn_abi_version() == CAIRN_ABI_VERSION);
  CHECK(std::string(cairn_version()).find('.') != std::string::npos);
  CHECK(std::string(cairn_code_name(CAIRN_OK)) == "ok");
  CHECK(std::string(cairn_code_name(CAIRN_NOT_FOUND)) == "not_found");
  CHECK(std::string(cairn_code_name(CAIRN_OUT_OF_RANGE)) == "out_of_range");
  CHECK(std::string(cairn_code_name(CAIRN_INTERNAL)) == "internal");
  CHECK(std::string(cairn_code_name(static_cast<cairn_code>(77))) == "unknown");
}

TEST_CASE("C API: registers keep arbitrary bytes and report absent keys and wrong types as codes") {
  TempDir dir;
  cairn_store* store = open_store(dir);
  StoreCloser closer{store};
  CHECK(cairn_store_replica_id(store) != 0);

  const std::string binary("a\0b\xff", 4);
  REQUIRE(put(store, "k", binary) == CAIRN_OK);
  CHECK(get(store, "k") == binary);
  REQUIRE(put(store, "empty", "") == CAIRN_OK);
  CHECK(get(store, "empty").empty());

  CHECK(get(store, "absent") == "<not_found>");
  CHECK(std::string(cairn_last_error_message()).find("absent") != std::string::npos);  // Names the key.

  REQUIRE(cairn_del(store, "k", 1) == CAIRN_OK);
  CHECK(get(store, "k") == "<not_found>");
  CHECK(cairn_del(store, "never", 5) == CAIRN_OK);  // Deleting an absent key succeeds.

  REQUIRE(cairn_incr(store, "n", 1, 1) == CAIRN_OK);
  CHECK(get(store, "n") == "<wrong_type>");
  cairn_kind kind = CAIRN_KIND_REGISTER;
  REQUIRE(cairn_kind_of(store, "n", 1, &kind) == CAIRN_OK);
  CHECK(kind == CAIRN_KIND_COUNTER);
  CHECK(cairn_kind_of(store, "zz", 2, &kind) == CAIRN_NOT_FOUND);

  const std::string too_long(300, 'k');
  CHECK(put(store, too_long, "v") != CAIRN_OK);  // Over the key limit: refused, not a crash.
  CHECK(std::string(cairn_last_error_message()).size() > 0);
}

TEST_CASE("C API: sets add, remove, test membership and iterate members in byte order") {
  TempDir dir;
  cairn_store* store = open_store(dir);
  StoreCloser closer{store};
  REQUIRE(sadd(store, "s", {"pear", "apple", std::string("n\0l", 3)}) == CAIRN_OK);
  const char* gone[] = {"pear"};
  const size_t gone_size[] = {4};
  REQUIRE(cairn_srem(store, "s", 1, gone, gone_size, 1) == CAIRN_OK);

  int is_member = -1;
  REQUIRE(cairn_sismember(store, "s", 1, "apple", 5, &is_member) == CAIRN_OK);
  CHECK(is_member == 1);
  REQUIRE(cairn_sismember(store, "s", 1, "pear", 4, &is_member) == CAIRN_OK);
  CHECK(is_member == 0);

  cairn_cursor* cursor = nullptr;
  REQUIRE(cairn_smembers(store, "s", 1, &cursor) == CAIRN_OK);
  CHECK(drain(cursor) == std::vector<std::string>{"apple", std::string("n\0l", 3)});
  REQUIRE(cairn_smembers(store, "absent", 6, &cursor) == CAIRN_OK);
  CHECK(drain(cursor).empty());

  REQUIRE(put(store, "r", "v") == CAIRN_OK);
  CHECK(sadd(store, "r", {"x"}) == CAIRN_WRONG_TYPE);
  CHECK(cairn_sadd(store, "s", 1, nullptr, nullptr, 2) == CAIRN_INVALID_ARGUMENT);
}

TEST_CASE("C API: counters count, read back, and refuse to leave the int64 range") {
  TempDir dir;
  cairn_store* store = open_store(dir);
  StoreCloser closer{store};
  REQUIRE(cairn_incr(store, "c", 1, 10) == CAIRN_OK);
  REQUIRE(cairn_decr(store, "c", 1, 3) == CAIRN_OK);
  std::int64_t value = 0;
  REQUIRE(cairn_counter(store, "c", 1, &value) == CAIRN_OK);
  CHECK(value == 7);
  CHECK(cairn_incr(store, "c", 1, UINT64_MAX) == CAIRN_OUT_OF_RANGE);
  REQUIRE(cairn_counter(store, "c", 1, &value) == CAIRN_OK);
  CHECK(value == 7);  // The refused increment wrote nothing.
  CHECK(cairn_counter(store, "none", 4, &value) == CAIRN_NOT_FOUND);
}

TEST_CASE("C API: a scan cursor lists the keys with a prefix in byte order and outlives writes made while open") {
  TempDir dir;
  cairn_store* store = open_store(dir);
  StoreCloser closer{store};
  for (const char* key : {"a/1", "a/2", "b/1"}) REQUIRE(put(store, key, "v") == CAIRN_OK);
  cairn_cursor* cursor = nullptr;
  REQUIRE(cairn_scan(store, "a/", 2, &cursor) == CAIRN_OK);
  CHECK(drain(cursor) == std::vector<std::string>{"a/1", "a/2"});
  REQUIRE(cairn_scan(store, nullptr, 0, &cursor) == CAIRN_OK);
  CHECK(drain(cursor) == std::vector<std::string>{"a/1", "a/2", "b/1"});

  REQUIRE(cairn_scan(store, "a/", 2, &cursor) == CAIRN_OK);
  const char* item = nullptr;
  size_t size = 0;
  REQUIRE(cairn_cursor_next(cursor, &item, &size) == CAIRN_OK);
  CHECK(std::string(item, size) == "a/1");
  // It holds no read transaction between calls, so a write goes through while it is open.
  REQUIRE(put(store, "a/3", "v") == CAIRN_OK);
  const std::vector<std::string> rest = drain(cursor);
  REQUIRE_FALSE(rest.empty());
  CHECK(rest.front() == "a/2");
}

namespace {

struct Seen {
  std::mutex mutex;
  std::vector<std::string> keys;
  std::vector<int> local;
};

void record_change(void* user_data, const char* key, size_t key_len, cairn_kind, int local) {
  auto* seen = static_cast<Seen*>(user_data);
  std::lock_guard lock(seen->mutex);
  seen->keys.emplace_back(key, key_len);
  seen->local.push_back(local);
}

}  // namespace

TEST_CASE("C API: a subscription gets each committed change with its user data until unsubscribed") {
  TempDir dir;
  cairn_store* store = open_store(dir);
  StoreCloser closer{store};
  Seen seen;
  uint64_t subscription = 0;
  REQUIRE(cairn_subscribe(store, "watch/", 6, record_change, &seen, &subscription) == CAIRN_OK);
  REQUIRE(put(store, "watch/a", "1") == CAIRN_OK);
  REQUIRE(put(store, "other", "1") == CAIRN_OK);
  REQUIRE(cairn_incr(store, "watch/n", 7, 1) == CAIRN_OK);
  {
    // Writes return after their commit, and subscribers are called at the commit: nothing to wait for.
    std::lock_guard lock(seen.mutex);
    CHECK(seen.keys == std::vector<std::string>{"watch/a", "watch/n"});
    CHECK(seen.local == std::vector<int>{1, 1});
  }
  cairn_unsubscribe(store, subscription);
  REQUIRE(put(store, "watch/b", "1") == CAIRN_OK);
  std::lock_guard lock(seen.mutex);
  CHECK(seen.keys.size() == 2);

  // A subscription left open is ended by cairn_store_close (the test's closer): no callback after.
  uint64_t left_open = 0;
  CHECK(cairn_subscribe(store, "", 0, record_change, &seen, &left_open) == CAIRN_OK);
}

TEST_CASE("C API: NULL handles and arguments are refused with invalid_argument, never a crash") {
  cairn_store* store = nullptr;
  CHECK(cairn_store_open(nullptr, nullptr, &store) == CAIRN_INVALID_ARGUMENT);
  CHECK(std::string(cairn_last_error_message()) == "path is NULL");
  CHECK(cairn_put(nullptr, "k", 1, "v", 1) == CAIRN_INVALID_ARGUMENT);
  TempDir dir;
  store = open_store(dir);
  StoreCloser closer{store};
  CHECK(cairn_put(store, nullptr, 3, "v", 1) == CAIRN_INVALID_ARGUMENT);
  CHECK(cairn_get(store, "k", 1, nullptr, nullptr) == CAIRN_INVALID_ARGUMENT);
  CHECK(cairn_cursor_next(nullptr, nullptr, nullptr) == CAIRN_INVALID_ARGUMENT);
  CHECK(cairn_subscribe(store, "", 0, nullptr, nullptr, nullptr) == CAIRN_INVALID_ARGUMENT);
  cairn_store_close(nullptr);
  cairn_cursor_destroy(nullptr);
  cairn_node_stop(nullptr);
  cairn_unsubscribe(store, 12345);  // Unknown: ignored.

  // The directory is held: a second open fails with a code and a message naming the reason.
  cairn_store* second = nullptr;
  CHECK(cairn_store_open(dir.str().c_str(), nullptr, &second) == CAIRN_UNAVAILABLE);
  CHECK(second == nullptr);
  CHECK(std::string(cairn_last_error_message()).size() > 0);
}

TEST_CASE("C API: store options: read-only refuses writes, no create_if_missing refuses a new directory") {
  TempDir dir;
  cairn_store_options* options = cairn_store_options_create();
  REQUIRE(options != nullptr);
  cairn_store_options_set_create_if_missing(options, 0);
  cairn_store* store = nullptr;
  CHECK(cairn_store_open((dir.str() + "/new").c_str(), options, &store) == CAIRN_NOT_FOUND);

  cairn_store_options_set_create_if_missing(options, 1);
  cairn_store_options_set_durability(options, CAIRN_DURABILITY_SYNC);
  REQUIRE(cairn_store_open((dir.str() + "/new").c_str(), options, &store) == CAIRN_OK);
  REQUIRE(put(store, "k", "v") == CAIRN_OK);
  cairn_store_close(store);

  cairn_store_options_set_read_only(options, 1);
  REQUIRE(cairn_store_open((dir.str() + "/new").c_str(), options, &store) == CAIRN_OK);
  CHECK(get(store, "k") == "v");
  CHECK(put(store, "k", "w") != CAIRN_OK);
  cairn_store_close(store);
  cairn_store_options_destroy(options);
}

namespace {

// 64 hex digits, the same for both nodes of a test.
std::string test_cluster_key() {
  std::string key;
  for (int i = 0; i < 64; ++i) key.push_back("0123456789abcdef"[(i * 7 + 3) % 16]);
  return key;
}

cairn_node* start_node(const std::string& data_dir, const std::string& seed) {
  cairn_node_options* options = cairn_node_options_create(data_dir.c_str());
  REQUIRE(options != nullptr);
  cairn_node_options_set_listen(options, "127.0.0.1", 0);
  cairn_node_options_add_cluster_key(options, test_cluster_key().c_str());
  cairn_node_options_set_cluster_name(options, "capi-test");
  cairn_node_options_set_gossip_interval_ms(options, 50);
  cairn_node_options_set_durability(options, CAIRN_DURABILITY_NOSYNC);
  if (!seed.empty()) cairn_node_options_add_seed(options, seed.c_str());
  cairn_node* node = nullptr;
  const cairn_code started = cairn_node_start(options, &node);
  cairn_node_options_destroy(options);
  INFO(cairn_last_error_message());
  REQUIRE(started == CAIRN_OK);
  return node;
}

struct NodeStopper {
  cairn_node* node;
  ~NodeStopper() { cairn_node_stop(node); }
};

bool eventually(const std::function<bool()>& check) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return check();
}

}  // namespace

TEST_CASE("C API: two nodes with one cluster key sync a write, and the receiver's subscriber sees it as remote") {
  TempDir dir_a, dir_b;
  cairn_node* a = start_node(dir_a.str(), "");
  NodeStopper stop_a{a};
  REQUIRE(cairn_node_gossip_port(a) != 0);
  cairn_node* b = start_node(dir_b.str(), "127.0.0.1:" + std::to_string(cairn_node_gossip_port(a)));
  NodeStopper stop_b{b};
  CHECK(cairn_node_replica_id(a) != cairn_node_replica_id(b));
  CHECK(cairn_node_replica_id(a) == cairn_store_replica_id(cairn_node_store(a)));

  Seen seen;
  uint64_t subscription = 0;
  REQUIRE(cairn_subscribe(cairn_node_store(b), "greeting", 8, record_change, &seen, &subscription) == CAIRN_OK);
  REQUIRE(put(cairn_node_store(a), "greeting", "hello") == CAIRN_OK);
  CHECK(eventually([&] { return get(cairn_node_store(b), "greeting") == "hello"; }));
  std::lock_guard lock(seen.mutex);
  REQUIRE(seen.keys.size() >= 1);
  CHECK(seen.keys[0] == "greeting");
  CHECK(seen.local[0] == 0);

  // The node's store handle is borrowed: closing it is ignored, and the node keeps working.
  cairn_store_close(cairn_node_store(a));
  CHECK(put(cairn_node_store(a), "after", "x") == CAIRN_OK);
}

TEST_CASE("C API: a node start that fails returns a code and a message, and a bad seed is refused") {
  TempDir dir;
  cairn_node_options* options = cairn_node_options_create(dir.str().c_str());
  cairn_node_options_set_listen(options, "127.0.0.1", 0);
  cairn_node_options_add_cluster_key(options, "not-hex");
  cairn_node* node = nullptr;
  CHECK(cairn_node_start(options, &node) == CAIRN_INVALID_ARGUMENT);
  CHECK(node == nullptr);
  CHECK(std::string(cairn_last_error_message()).size() > 0);
  cairn_node_options_destroy(options);
  CHECK(cairn_node_start(nullptr, &node) == CAIRN_INVALID_ARGUMENT);

  options = cairn_node_options_create(dir.str().c_str());
  cairn_node_options_set_listen(options, "127.0.0.1", 0);
  cairn_node_options_add_cluster_key(options, test_cluster_key().c_str());
  cairn_node_options_add_seed(options, "no port here");
  CHECK(cairn_node_start(options, &node) == CAIRN_INVALID_ARGUMENT);
  CHECK(node == nullptr);
  cairn_node_options_destroy(options);
}
