#include "src/backup/key_access.h"

#include <type_traits>

namespace cairn::backup {
namespace {

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

// Client and Store name their reads and writes alike; only the listings differ (Client streams to a
// callback, Store returns a Cursor).
template <typename Backend>
class AccessOver final : public KeyAccess {
 public:
  explicit AccessOver(Backend& backend) : backend_(backend) {}
  Status scan(std::string_view prefix, const Each& each) override {
    if constexpr (std::is_same_v<Backend, Client>) {
      return backend_.scan(prefix, each);
    } else {
      return drain(*backend_.scan(prefix), each);
    }
  }
  Status smembers(std::string_view key, const Each& each) override {
    if constexpr (std::is_same_v<Backend, Client>) {
      return backend_.smembers(key, each);
    } else {
      return drain(backend_.smembers(key), each);
    }
  }
  Result<ValueKind> kind(std::string_view key) override { return backend_.kind(key); }
  Result<RegisterValue> get(std::string_view key) override { return backend_.get(key); }
  Result<std::int64_t> counter(std::string_view key) override { return backend_.counter(key); }
  Result<KeyInspection> inspect(std::string_view key) override { return backend_.inspect(key); }
  Status put(std::string_view key, std::string_view value) override { return backend_.put(key, value); }
  Status sadd(std::string_view key, const std::vector<std::string>& members) override {
    return backend_.sadd(key, members);
  }
  Status incr(std::string_view key, std::uint64_t amount) override { return backend_.incr(key, amount); }
  Status decr(std::string_view key, std::uint64_t amount) override { return backend_.decr(key, amount); }

 private:
  Backend& backend_;
};

}  // namespace

std::unique_ptr<KeyAccess> access_over(Client& client) { return std::make_unique<AccessOver<Client>>(client); }
std::unique_ptr<KeyAccess> access_over(Store& store) { return std::make_unique<AccessOver<Store>>(store); }

}  // namespace cairn::backup
