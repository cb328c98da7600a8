// Replies built by iterating a store Cursor: KEYS and SMEMBERS (one array of everything, collected up
// to RespOptions::max_collected_reply_bytes, since a RESP2 array states its length before its items),
// and SCAN and SSCAN pages (bounded work per call, the iteration kept in RespShared::cursors).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "src/resp/command.h"

namespace cairn::resp {

// Decides whether an item goes into the reply (a MATCH pattern, a TYPE filter); may read the store.
using ItemFilter = std::function<Result<bool>(const std::string&)>;

// The array of every item of `cursor` that `keep` accepts, or an error reply naming `command` and the
// paging command to use instead when the reply would pass ctx.options.max_collected_reply_bytes.
Plan collect_all(CommandContext& ctx, Cursor& cursor, const ItemFilter& keep, std::string_view command,
                 std::string_view paging_command);

// The error text of a reply that would pass `limit` bytes: "ERR the reply to keys would pass ... ; <advice>".
std::string reply_too_large(std::string_view command, std::size_t limit, std::string_view advice);

// What a SCAN or SSCAN call asked for.
struct PageRequest {
  std::size_t count = 10;              // COUNT: items wanted (a hint: a page may hold fewer, or none).
  std::optional<std::string> pattern;  // MATCH
  std::optional<std::string> type;     // TYPE (SCAN only)
};

// Parses SCAN/SSCAN options from args[first...]; an error reply in `failed` otherwise.
std::optional<PageRequest> parse_page_request(const std::vector<std::string>& args, std::size_t first,
                                              bool allow_type, Plan& failed);

// Parses a cursor argument (decimal, unsigned); nullopt when it is not one ("ERR invalid cursor").
std::optional<std::uint64_t> parse_cursor(std::string_view text);

// One page: reads from `position` until `count` items passed `keep`, or 10 x count items were read,
// or the page reaches max_collected_reply_bytes; replies [next cursor, items] and saves the position
// under the next cursor (0 when the iteration is over).
Plan scan_page(CommandContext& ctx, ScanPosition position, const PageRequest& request,
               const ItemFilter& keep);

}  // namespace cairn::resp
