// Reading a key the way the RESP commands see it: Redis has one "string" type where cairn has a
// register and a counter (GET of a counter answers its value), and a key may hold several kinds after
// concurrent writes on two peers (docs/resp.md, "Type rules").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn::resp {

// What a key holds, with what a read-modify-write needs to write under an Expectation.
struct KeyState {
  bool present = false;
  bool has_register = false;
  bool has_set = false;
  bool has_counter = false;
  // The string value when the key holds a register (its winning value) or else a counter (its value in
  // decimal); empty otherwise.
  std::string value;
  // The dots of the register's versions and the counter's entries (Expectation::dots); left empty for a
  // key holding a set, which no expectation covers.
  std::vector<InspectedDot> dots;
  // The counter's total does not fit an int64 (concurrent increments on several peers added up past
  // it): `value` then holds the nearest int64, which is not the total and must never be shown as it.
  bool counter_out_of_range = false;

  bool holds_string() const { return present && !has_set; }
};

// Reads `key` with Store::kind() and, unless it holds a set, Store::inspect() (one read transaction).
Result<KeyState> read_key_state(Store& store, std::string_view key);

// The value GET answers: the register's winning value, or a counter's value in decimal; nullopt for an
// absent key; kWrongType for a set.
Result<std::optional<std::string>> read_string(Store& store, std::string_view key);

// The kind Store::kind() reports, nullopt for an absent key.
Result<std::optional<ValueKind>> read_kind(Store& store, std::string_view key);

// Redis's TYPE name: "string" for a register or counter, "set", "none".
std::string_view type_name(std::optional<ValueKind> kind);

}  // namespace cairn::resp
