#include "src/backup/key_access.h"

namespace cairn::backup {
namespace {

class ClientAccess final : public KeyAccess {
 public:
  explicit ClientAccess(Client& client) : client_(client) {}
  Status scan(std::string_view prefix, const Each& each) override { return client_.scan(prefix, each); }
  Result<ValueKind> kind(std::string_view key) override { return client_.kind(key); }
  Result<RegisterValue> get(std::string_view key) override { return client_.get(key); }
  Status smembers(std::string_view key, const Each& each) override { return client_.smembers(key, each); }
  Result<std::int64_t> counter(std::string_view key) override { return client_.counter(key); }
  Result<KeyInspection> inspect(std::string_view key) override { return client_.inspect(key); }
  Status put(std::string_view key, std::string_view value) override { return client_.put(key, value); }
  Status sadd(std::string_view key, const std::vector<std::string>& members) override {
    return client_.sadd(key, members);
  }
  Status incr(std::string_view key, std::uint64_t amount) override { return client_.incr(key, amount); }
  Status decr(std::string_view key, std::uint64_t amount) override { return client_.decr(key, amount); }

 private:
  Client& client_;
};

Status drain(Cursor& cursor, const KeyAccess::Each& each) {
  for (;;) {
    auto item = cursor.next();
    if (!item) return tl::unexpected(item.error());
    if (!*item || !each(**item)) return ok();
  }
}

Status drain(Result<std::unique_ptr<Cursor>> cursor, const KeyAccess::Each& each) {
  if (!cursor) return tl::unexpected(cursor.error());
  return drain(**cursor, each);
}

class StoreAccess final : public KeyAccess {
 public:
  explicit StoreAccess(Store& store) : store_(store) {}
  Status scan(std::string_view prefix, const Each& each) override { return drain(*store_.scan(prefix), each); }
  Result<ValueKind> kind(std::string_view key) override { return store_.kind(key); }
  Result<RegisterValue> get(std::string_view key) override { return store_.get(key); }
  Status smembers(std::string_view key, const Each& each) override { return drain(store_.smembers(key), each); }
  Result<std::int64_t> counter(std::string_view key) override { return store_.counter(key); }
  Result<KeyInspection> inspect(std::string_view key) override { return store_.inspect(key); }
  Status put(std::string_view key, std::string_view value) override { return store_.put(key, value); }
  Status sadd(std::string_view key, const std::vector<std::string>& members) override {
    return store_.sadd(key, members);
  }
  Status incr(std::string_view key, std::uint64_t amount) override { return store_.incr(key, amount); }
  Status decr(std::string_view key, std::uint64_t amount) override { return store_.decr(key, amount); }

 private:
  Store& store_;
};

}  // namespace

std::unique_ptr<KeyAccess> access_over(Client& client) { return std::make_unique<ClientAccess>(client); }
std::unique_ptr<KeyAccess> access_over(Store& store) { return std::make_unique<StoreAccess>(store); }

}  // namespace cairn::backup
