// The checks every write applies to its input before it is queued (a key, a value, set members), shared
// by the single-operation calls and the batch write so both refuse alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cairn/options.h"
#include "cairn/status.h"

namespace cairn::store {

inline Status check_key(std::string_view key) {
  if (key.empty()) return fail(ErrorCode::kInvalidArgument, "a key must not be empty");
  if (key.size() > kMaxKeyBytes) {
    return fail(ErrorCode::kLimitExceeded, "key of " + std::to_string(key.size()) + " bytes exceeds the limit of " +
                                               std::to_string(kMaxKeyBytes));
  }
  return ok();
}

inline Status check_value(std::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return fail(ErrorCode::kLimitExceeded, "value of " + std::to_string(value.size()) + " bytes exceeds the limit of " +
                                               std::to_string(kMaxValueBytes));
  }
  return ok();
}

inline Status check_members(const std::vector<std::string>& members) {
  for (const std::string& member : members) {
    if (member.size() > kMaxMemberBytes) {
      return fail(ErrorCode::kLimitExceeded, "set member of " + std::to_string(member.size()) +
                                                 " bytes exceeds the limit of " + std::to_string(kMaxMemberBytes));
    }
  }
  return ok();
}

}  // namespace cairn::store
