// Streaming cursors over a store: keys under a prefix, members of a set. Each next() reads from where
// the previous batch ended, in a fresh read transaction, so a cursor never holds all keys in memory
// nor a read transaction open between calls.
#pragma once

#include <memory>
#include <string_view>

#include "cairn/store.h"

namespace cairn::store {

class LmdbStore;

std::unique_ptr<Cursor> make_key_cursor(LmdbStore& store, std::string_view prefix);
std::unique_ptr<Cursor> make_member_cursor(LmdbStore& store, std::string_view key);

}  // namespace cairn::store
