// The store half of the C API (include/cairn/cairn.h): options, open/close, registers, sets, counters,
// kinds and scans. Each entry point checks its handles, calls cairn::Store and turns the Result into a
// cairn_code; none lets an exception out (guarded).
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "src/capi/handles.h"

using cairn::capi::bytes;
using cairn::capi::code_of;
using cairn::capi::failed;
using cairn::capi::guarded;
using cairn::capi::valid_bytes;

namespace {

cairn_code null_argument(const char* what) {
  return failed(CAIRN_INVALID_ARGUMENT, std::string(what) + " is NULL");
}

// Checks the store handle and the key, the arguments every keyed call has.
cairn_code check_keyed(const cairn_store* store, const char* key, size_t key_len) {
  if (store == nullptr || store->store == nullptr) return null_argument("store");
  if (!valid_bytes(key, key_len)) return null_argument("key");
  return CAIRN_OK;
}

// Copies `count` members given as pointer-and-length arrays.
cairn_code members_from(const char* const* members, const size_t* member_lens, size_t count,
                        std::vector<std::string>& out) {
  if (count > 0 && (members == nullptr || member_lens == nullptr)) return null_argument("members");
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (!valid_bytes(members[i], member_lens[i])) return null_argument("a member");
    out.emplace_back(bytes(members[i], member_lens[i]));
  }
  return CAIRN_OK;
}

cairn_code new_cursor(std::unique_ptr<cairn::Cursor> cursor, cairn_cursor** out) {
  // The caller owns the handle from here on (cairn_cursor_destroy).
  *out = std::make_unique<cairn_cursor>(cairn_cursor{std::move(cursor), {}}).release();
  return CAIRN_OK;
}

}  // namespace

extern "C" {

cairn_store_options* cairn_store_options_create(void) {
  try {
    return std::make_unique<cairn_store_options>().release();
  } catch (...) {
    return nullptr;
  }
}

void cairn_store_options_destroy(cairn_store_options* options) { delete options; }

void cairn_store_options_set_durability(cairn_store_options* options, cairn_durability durability) {
  if (options) options->options.durability = cairn::capi::durability_from_c(durability);
}

void cairn_store_options_set_create_if_missing(cairn_store_options* options, int create_if_missing) {
  if (options) options->options.create_if_missing = create_if_missing != 0;
}

void cairn_store_options_set_read_only(cairn_store_options* options, int read_only) {
  if (options) options->options.read_only = read_only != 0;
}

void cairn_store_options_set_map_size(cairn_store_options* options, uint64_t map_size_bytes) {
  if (options) options->options.map_size_bytes = map_size_bytes;
}

cairn_code cairn_store_open(const char* path, const cairn_store_options* options, cairn_store** store) {
  return guarded([&] {
    if (path == nullptr) return null_argument("path");
    if (store == nullptr) return null_argument("store");
    *store = nullptr;
    auto opened = cairn::Store::open(path, options ? options->options : cairn::StoreOptions{});
    if (!opened) return failed(opened.error());
    auto handle = std::make_unique<cairn_store>();
    handle->owned = std::move(*opened);
    handle->store = handle->owned.get();
    *store = handle.release();
    return CAIRN_OK;
  });
}

void cairn_store_close(cairn_store* store) {
  // A node's store (no `owned`) is part of its cairn_node and released by cairn_node_stop.
  if (store == nullptr || store->owned == nullptr) return;
  {
    std::lock_guard lock(store->subscriptions_mutex);
    for (std::uint64_t id : store->subscriptions) store->store->unsubscribe(id);
  }
  delete store;  // The owned Store's destructor waits for writes in flight.
}

uint64_t cairn_store_replica_id(const cairn_store* store) {
  return store && store->store ? store->store->replica_id() : 0;
}

cairn_code cairn_put(cairn_store* store, const char* key, size_t key_len, const char* value, size_t value_len) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    if (!valid_bytes(value, value_len)) return null_argument("value");
    return code_of(store->store->put(bytes(key, key_len), bytes(value, value_len)));
  });
}

cairn_code cairn_get(cairn_store* store, const char* key, size_t key_len, char** value, size_t* value_len) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    if (value == nullptr || value_len == nullptr) return null_argument("value");
    *value = nullptr;
    *value_len = 0;
    auto read = store->store->get(bytes(key, key_len));
    if (!read) return failed(read.error());
    const std::string& winner = read->value;
    char* copy = static_cast<char*>(std::malloc(winner.size() + 1));
    if (copy == nullptr) return failed(CAIRN_INTERNAL, "out of memory for a value of " + std::to_string(winner.size()) + " bytes");
    std::memcpy(copy, winner.data(), winner.size());
    copy[winner.size()] = '\0';
    *value = copy;
    *value_len = winner.size();
    return CAIRN_OK;
  });
}

cairn_code cairn_del(cairn_store* store, const char* key, size_t key_len) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    return code_of(store->store->del(bytes(key, key_len)));
  });
}

cairn_code cairn_sadd(cairn_store* store, const char* key, size_t key_len, const char* const* members,
                      const size_t* member_lens, size_t count) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    std::vector<std::string> added;
    if (auto copied = members_from(members, member_lens, count, added); copied != CAIRN_OK) return copied;
    return code_of(store->store->sadd(bytes(key, key_len), added));
  });
}

cairn_code cairn_srem(cairn_store* store, const char* key, size_t key_len, const char* const* members,
                      const size_t* member_lens, size_t count) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    std::vector<std::string> removed;
    if (auto copied = members_from(members, member_lens, count, removed); copied != CAIRN_OK) return copied;
    return code_of(store->store->srem(bytes(key, key_len), removed));
  });
}

cairn_code cairn_sismember(cairn_store* store, const char* key, size_t key_len, const char* member,
                           size_t member_len, int* is_member) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    if (!valid_bytes(member, member_len)) return null_argument("member");
    if (is_member == nullptr) return null_argument("is_member");
    auto found = store->store->sismember(bytes(key, key_len), bytes(member, member_len));
    if (!found) return failed(found.error());
    *is_member = *found ? 1 : 0;
    return CAIRN_OK;
  });
}

cairn_code cairn_smembers(cairn_store* store, const char* key, size_t key_len, cairn_cursor** cursor) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    if (cursor == nullptr) return null_argument("cursor");
    *cursor = nullptr;
    auto members = store->store->smembers(bytes(key, key_len));
    if (!members) return failed(members.error());
    return new_cursor(std::move(*members), cursor);
  });
}

cairn_code cairn_incr(cairn_store* store, const char* key, size_t key_len, uint64_t amount) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    return code_of(store->store->incr(bytes(key, key_len), amount));
  });
}

cairn_code cairn_decr(cairn_store* store, const char* key, size_t key_len, uint64_t amount) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    return code_of(store->store->decr(bytes(key, key_len), amount));
  });
}

cairn_code cairn_counter(cairn_store* store, const char* key, size_t key_len, int64_t* value) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    if (value == nullptr) return null_argument("value");
    auto read = store->store->counter(bytes(key, key_len));
    if (!read) return failed(read.error());
    *value = *read;
    return CAIRN_OK;
  });
}

cairn_code cairn_kind_of(cairn_store* store, const char* key, size_t key_len, cairn_kind* kind) {
  return guarded([&] {
    if (auto checked = check_keyed(store, key, key_len); checked != CAIRN_OK) return checked;
    if (kind == nullptr) return null_argument("kind");
    auto read = store->store->kind(bytes(key, key_len));
    if (!read) return failed(read.error());
    *kind = cairn::capi::kind_to_c(*read);
    return CAIRN_OK;
  });
}

cairn_code cairn_scan(cairn_store* store, const char* prefix, size_t prefix_len, cairn_cursor** cursor) {
  return guarded([&] {
    if (auto checked = check_keyed(store, prefix, prefix_len); checked != CAIRN_OK) return checked;
    if (cursor == nullptr) return null_argument("cursor");
    *cursor = nullptr;
    return new_cursor(store->store->scan(bytes(prefix, prefix_len)), cursor);
  });
}

cairn_code cairn_cursor_next(cairn_cursor* cursor, const char** item, size_t* item_len) {
  return guarded([&] {
    if (cursor == nullptr) return null_argument("cursor");
    if (item == nullptr || item_len == nullptr) return null_argument("item");
    *item = nullptr;
    *item_len = 0;
    auto next = cursor->cursor->next();
    if (!next) return failed(next.error());
    if (!*next) return CAIRN_OK;
    cursor->item = std::move(**next);
    *item = cursor->item.data();  // Never NULL, even for an empty item: NULL means the end.
    *item_len = cursor->item.size();
    return CAIRN_OK;
  });
}

void cairn_cursor_destroy(cairn_cursor* cursor) { delete cursor; }

cairn_code cairn_subscribe(cairn_store* store, const char* prefix, size_t prefix_len, cairn_change_fn callback,
                           void* user_data, uint64_t* subscription) {
  return guarded([&] {
    if (auto checked = check_keyed(store, prefix, prefix_len); checked != CAIRN_OK) return checked;
    if (callback == nullptr) return null_argument("callback");
    if (subscription == nullptr) return null_argument("subscription");
    std::lock_guard lock(store->subscriptions_mutex);
    const std::uint64_t id =
        store->store->subscribe(bytes(prefix, prefix_len), [callback, user_data](const cairn::Change& change) {
          callback(user_data, change.key.data(), change.key.size(), cairn::capi::kind_to_c(change.kind),
                   change.local ? 1 : 0);
        });
    store->subscriptions.insert(id);
    *subscription = id;
    return CAIRN_OK;
  });
}

void cairn_unsubscribe(cairn_store* store, uint64_t subscription) {
  if (store == nullptr || store->store == nullptr) return;
  std::lock_guard lock(store->subscriptions_mutex);
  if (store->subscriptions.erase(subscription) == 0) return;
  store->store->unsubscribe(subscription);
}

}  // extern "C"
