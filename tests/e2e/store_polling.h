// Helpers the end-to-end tests share: wait for a condition, and read a running peer's data directory.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "cairn/store.h"

namespace cairn::test {

// Polls until `check()` holds, up to `limit`.
inline bool eventually(const std::function<bool()>& check, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return check();
}

// Reads `key` from a running peer's data directory, read-only (safe beside the peer); an error as
// "<code: message>".
inline std::string read_register(const std::string& data_dir, const std::string& key) {
  StoreOptions read_only;
  read_only.read_only = true;
  auto store = Store::open(data_dir, read_only);
  if (!store) return "<" + store.error().to_string() + ">";
  auto value = (*store)->get(key);
  return value ? value->value : "<" + value.error().to_string() + ">";
}

}  // namespace cairn::test
