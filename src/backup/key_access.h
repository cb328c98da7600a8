// What export and import need of a peer, the same over the client protocol (cairn::Client) and on a
// data directory opened as a store (cairn::Store): the adapters below make one look like the other.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/client.h"
#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn::backup {

class KeyAccess {
 public:
  virtual ~KeyAccess() = default;
  using Each = std::function<bool(const std::string&)>;
  // Reads, as Store and Client define them.
  virtual Status scan(std::string_view prefix, const Each& each) = 0;
  virtual Result<ValueKind> kind(std::string_view key) = 0;
  virtual Result<RegisterValue> get(std::string_view key) = 0;
  virtual Status smembers(std::string_view key, const Each& each) = 0;
  virtual Result<std::int64_t> counter(std::string_view key) = 0;
  virtual Result<KeyInspection> inspect(std::string_view key) = 0;
  // Local writes (kUnavailable on a read-only store).
  virtual Status put(std::string_view key, std::string_view value) = 0;
  virtual Status sadd(std::string_view key, const std::vector<std::string>& members) = 0;
  virtual Status incr(std::string_view key, std::uint64_t amount) = 0;
  virtual Status decr(std::string_view key, std::uint64_t amount) = 0;
};

// Borrow `client` / `store`, which must outlive the adapter.
std::unique_ptr<KeyAccess> access_over(Client& client);
std::unique_ptr<KeyAccess> access_over(Store& store);

}  // namespace cairn::backup
