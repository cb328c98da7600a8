#include "src/resp/key_reads.h"

#include <algorithm>

#include "src/resp/integer.h"

namespace cairn::resp {

Result<std::optional<ValueKind>> read_kind(Store& store, std::string_view key) {
  auto kind = store.kind(key);
  if (kind) return std::optional<ValueKind>(*kind);
  if (kind.error().code() == ErrorCode::kNotFound) return std::optional<ValueKind>();
  return tl::unexpected(std::move(kind.error()));
}

Result<KeyState> read_key_state(Store& store, std::string_view key) {
  KeyState state;
  auto kind = read_kind(store, key);
  if (!kind) return tl::unexpected(std::move(kind.error()));
  if (!*kind) return state;
  state.present = true;
  if (**kind == ValueKind::kSet) {
    state.has_set = true;
    return state;
  }
  auto inspection = store.inspect(key);
  if (!inspection) {
    if (inspection.error().code() == ErrorCode::kNotFound) return KeyState{};  // Deleted since kind().
    return tl::unexpected(std::move(inspection.error()));
  }
  for (ValueKind held : inspection->kinds) {
    state.has_register = state.has_register || held == ValueKind::kRegister;
    state.has_set = state.has_set || held == ValueKind::kSet;
    state.has_counter = state.has_counter || held == ValueKind::kCounter;
  }
  if (state.has_set) return state;
  for (const RegisterVersion& version : inspection->versions) state.dots.push_back(version.dot);
  for (const CounterPart& part : inspection->counter_parts) state.dots.push_back(part.dot);
  std::sort(state.dots.begin(), state.dots.end());
  if (state.has_register && !inspection->versions.empty()) {
    state.value = inspection->versions.front().value;
  } else if (state.has_counter) {
    state.value = format_int64(inspection->counter_value);
    state.counter_out_of_range = inspection->counter_out_of_range;
  }
  return state;
}

Result<std::optional<std::string>> read_string(Store& store, std::string_view key) {
  auto value = store.get(key);
  if (value) return std::optional<std::string>(std::move(value->value));
  if (value.error().code() == ErrorCode::kNotFound) return std::optional<std::string>();
  if (value.error().code() != ErrorCode::kWrongType) return tl::unexpected(std::move(value.error()));
  auto counter = store.counter(key);
  if (counter) return std::optional<std::string>(format_int64(*counter));
  if (counter.error().code() == ErrorCode::kNotFound) return std::optional<std::string>();
  return tl::unexpected(std::move(counter.error()));
}

std::string_view type_name(std::optional<ValueKind> kind) {
  if (!kind) return "none";
  return *kind == ValueKind::kSet ? "set" : "string";
}

}  // namespace cairn::resp
