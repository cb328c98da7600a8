// The writes of Redis's "SET overwrites whatever the key holds" in cairn's terms: a put, preceded by a
// delete when the key holds (or may hold) a set or a counter, since a cairn write never changes a key's
// kind (docs/resp.md, "SET over a set or counter key").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/resp/command.h"

namespace cairn::resp {

// Appends to `plan` the writes that leave `key` holding the register `value`, reading the key's kind
// unless the context says it cannot be trusted (a kind changed under the previous attempt, or an
// earlier command of the transaction writes the key); then the delete is always included. Returns
// false (having made `plan` an error reply) when the read fails.
bool plan_overwrite(CommandContext& ctx, Plan& plan, const std::string& key, const std::string& value);

// The writes for a key whose state `holds_other_kind` says holds a set or counter besides or instead
// of a register.
void add_put_writes(Plan& plan, const std::string& key, const std::string& value, bool holds_other_kind);

}  // namespace cairn::resp
