// The structs behind the opaque handles of include/cairn/cairn.h, and the one guard every C entry point
// runs its body in. Internal to src/capi.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "cairn/cairn.h"
#include "cairn/node.h"
#include "cairn/status.h"
#include "cairn/store.h"

struct cairn_store_options {
  cairn::StoreOptions options;
};

struct cairn_node_options {
  cairn::NodeOptions options;
};

// A store handle owns its Store (cairn_store_open) or borrows the one of a Node (cairn_node_store). It
// remembers its subscriptions so that closing it ends them: a callback must never outlive the handle.
struct cairn_store {
  std::unique_ptr<cairn::Store> owned;
  cairn::Store* store = nullptr;
  std::mutex subscriptions_mutex;
  std::set<std::uint64_t> subscriptions;
};

// The current item lives in `item`, so the pointer cairn_cursor_next hands out stays valid until the
// next call, as the header promises.
struct cairn_cursor {
  std::unique_ptr<cairn::Cursor> cursor;
  std::string item;
};

struct cairn_node {
  std::unique_ptr<cairn::Node> node;
  cairn_store store;  // Borrows node->store().
};

namespace cairn::capi {

// Records `error` as this thread's last error message and returns its code.
cairn_code failed(const Error& error);
// The same for a failure the C layer itself finds (a NULL handle, a bad argument).
cairn_code failed(cairn_code code, std::string message);

// Runs `body` (which returns a cairn_code) and turns any exception into CAIRN_INTERNAL, so none
// crosses the C boundary.
template <typename Body>
cairn_code guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& exception) {
    return failed(CAIRN_INTERNAL, std::string("internal error: ") + exception.what());
  } catch (...) {
    return failed(CAIRN_INTERNAL, "internal error: unknown exception");
  }
}

// The result of a Status-returning call as a cairn_code.
inline cairn_code code_of(const Status& status) { return status ? CAIRN_OK : failed(status.error()); }

// A byte string from a pointer and a length; NULL with length 0 is the empty string.
inline std::string_view bytes(const char* data, std::size_t size) {
  return size == 0 ? std::string_view() : std::string_view(data, size);
}

// Whether pointer-and-length arguments are usable: a NULL pointer is accepted only with length 0.
inline bool valid_bytes(const char* data, std::size_t size) { return data != nullptr || size == 0; }

cairn_kind kind_to_c(ValueKind kind);
Durability durability_from_c(cairn_durability durability);

}  // namespace cairn::capi
