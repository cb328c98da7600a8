// Versions, error codes and messages, and memory of the C API (include/cairn/cairn.h).
#include <cstdlib>
#include <string>

#include "src/capi/handles.h"

namespace cairn::capi {
namespace {

// Per thread, as errno: a failure on one thread never overwrites the message another thread is reading.
thread_local std::string last_error_message;

}  // namespace

cairn_code failed(cairn_code code, std::string message) {
  last_error_message = std::move(message);
  return code;
}

cairn_code failed(const Error& error) {
  return failed(static_cast<cairn_code>(error.code()), error.message());
}

cairn_kind kind_to_c(ValueKind kind) {
  switch (kind) {
    case ValueKind::kRegister: return CAIRN_KIND_REGISTER;
    case ValueKind::kSet: return CAIRN_KIND_SET;
    case ValueKind::kCounter: return CAIRN_KIND_COUNTER;
  }
  return CAIRN_KIND_REGISTER;
}

Durability durability_from_c(cairn_durability durability) {
  switch (durability) {
    case CAIRN_DURABILITY_SYNC: return Durability::kSync;
    case CAIRN_DURABILITY_NOSYNC: return Durability::kNoSync;
    case CAIRN_DURABILITY_GROUP: break;
  }
  return Durability::kGroup;
}

}  // namespace cairn::capi

extern "C" {

int cairn_abi_version(void) { return CAIRN_ABI_VERSION; }

const char* cairn_version(void) { return CAIRN_VERSION_STRING; }

const char* cairn_code_name(cairn_code code) {
  if (code == CAIRN_OK) return "ok";
  if (code == CAIRN_INTERNAL) return "internal";
  if (code >= CAIRN_NOT_FOUND && code <= CAIRN_POSITION_EXPIRED) {
    // to_string returns views of string literals, so data() is NUL-terminated and static.
    return cairn::to_string(static_cast<cairn::ErrorCode>(code)).data();
  }
  return "unknown";
}

const char* cairn_last_error_message(void) { return cairn::capi::last_error_message.c_str(); }

void cairn_free(void* bytes) { std::free(bytes); }

}  // extern "C"
