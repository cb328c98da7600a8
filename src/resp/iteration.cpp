#include "src/resp/iteration.h"

#include <charconv>
#include <cstdint>
#include <utility>
#include <vector>

#include "src/resp/errors.h"
#include "src/resp/integer.h"
#include "src/resp/reply.h"

namespace cairn::resp {

Plan collect_all(CommandContext& ctx, Cursor& cursor, const ItemFilter& keep, std::string_view command,
                 std::string_view paging_command) {
  const std::size_t limit = ctx.options.max_collected_reply_bytes;
  std::string items;
  std::size_t count = 0;
  for (;;) {
    auto item = cursor.next();
    if (!item) return refuse(errors::from_store(item.error(), command));
    if (!*item) break;
    auto kept = keep(**item);
    if (!kept) return refuse(errors::from_store(kept.error(), command));
    if (!*kept) continue;
    if (items.size() + reply::bulk_bytes((*item)->size()) > limit) {
      return refuse("ERR the reply to " + std::string(command) + " would pass " + std::to_string(limit) +
                    " bytes (cairn's limit for one collected reply); iterate with " +
                    std::string(paging_command) + " instead");
    }
    reply::bulk(items, **item);
    ++count;
  }
  std::string out;
  reply::array_header(out, count);
  out += items;
  return answer(std::move(out));
}

std::string reply_too_large(std::string_view command, std::size_t limit, std::string_view advice) {
  return "ERR the reply to " + std::string(command) + " would pass " + std::to_string(limit) +
         " bytes (cairn's limit for one collected reply); " + std::string(advice);
}

std::optional<std::uint64_t> parse_cursor(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<PageRequest> parse_page_request(const std::vector<std::string>& args, std::size_t first,
                                              bool allow_type, Plan& failed) {
  PageRequest request;
  for (std::size_t i = first; i < args.size(); i += 2) {
    const std::string option = lower(args[i]);
    if (i + 1 >= args.size()) {
      failed = refuse(errors::kSyntax);
      return std::nullopt;
    }
    if (option == "count") {
      const auto count = parse_int64(args[i + 1]);
      if (!count) {
        failed = refuse(errors::kNotInteger);
        return std::nullopt;
      }
      if (*count < 1) {
        failed = refuse(errors::kSyntax);
        return std::nullopt;
      }
      request.count = static_cast<std::size_t>(*count);
    } else if (option == "match") {
      request.pattern = args[i + 1];
    } else if (option == "type" && allow_type) {
      request.type = lower(args[i + 1]);
    } else {
      failed = refuse(errors::kSyntax);
      return std::nullopt;
    }
  }
  return request;
}

Plan scan_page(CommandContext& ctx, ScanPosition position, const PageRequest& request,
               const ItemFilter& keep) {
  const std::string command = lower(ctx.args[0]);
  // Bounded work per call, as Redis bounds it: a page reads at most 10 x COUNT items however few match.
  const std::size_t max_read = request.count > SIZE_MAX / 10 ? SIZE_MAX : request.count * 10;
  std::vector<std::string> items;
  std::size_t read = 0, bytes = 0;
  bool done = false;
  while (items.size() < request.count && read < max_read && bytes < ctx.options.max_collected_reply_bytes) {
    std::optional<std::string> item = std::exchange(position.lookahead, std::nullopt);
    if (!item) {
      auto next = position.cursor->next();
      if (!next) return refuse(errors::from_store(next.error(), command));
      item = std::move(*next);
    }
    if (!item) {
      done = true;
      break;
    }
    ++read;
    auto kept = keep(*item);
    if (!kept) return refuse(errors::from_store(kept.error(), command));
    if (!*kept) continue;
    bytes += reply::bulk_bytes(item->size());
    items.push_back(std::move(*item));
  }
  if (!done && !position.lookahead) {
    auto next = position.cursor->next();
    if (!next) return refuse(errors::from_store(next.error(), command));
    position.lookahead = std::move(*next);
    done = !position.lookahead;
  }
  const std::uint64_t next_cursor = done ? 0 : ctx.shared.cursors.save(std::move(position));
  std::string out;
  reply::array_header(out, 2);
  reply::bulk(out, std::to_string(next_cursor));
  reply::bulk_array(out, items);
  return answer(std::move(out));
}

}  // namespace cairn::resp
