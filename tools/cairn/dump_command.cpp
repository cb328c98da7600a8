// cairn dump --data-dir DIR: every key of a data directory, read offline with a read-only store (LMDB
// readers never block the writer and never write), so it is safe on a running peer's directory.
#include <cstdio>
#include <optional>

#include "cairn/store.h"
#include "tools/cairn/commands.h"
#include "tools/cairn/exit_codes.h"

namespace cairn::cli {
namespace {

// Prints every member of set `key` as it is read.
Status dump_set(Context& context, Store& store, const std::string& key) {
  auto members = store.smembers(key);
  if (!members) return tl::unexpected(members.error());
  for (;;) {
    auto member = (*members)->next();
    if (!member) return tl::unexpected(member.error());
    if (!*member) return ok();
    if (context.out.json()) {
      Json item{{"key", key}, {"type", "set"}};
      put_bytes(item, "member", **member);
      context.out.array_item(item);
    } else {
      context.out.line(printable(key) + "\tset\t" + printable(**member));
    }
  }
}

// A counter whose merged value is outside the int64 range: listed with its error (stderr too), and the
// dump goes on.
void dump_out_of_range_counter(Context& context, const std::string& key, const Error& error) {
  std::fprintf(stderr, "cairn: %s\n", error.message().c_str());
  if (context.out.json()) {
    Json item{{"key", key}, {"type", "counter"}};
    item["error"] = {{"code", std::string(to_string(error.code()))}, {"message", error.message()}};
    context.out.array_item(item);
  } else {
    context.out.line(printable(key) + "\tcounter\t(outside the int64 range)");
  }
}

// Prints `key`. `skipped` gets the error of a value that cannot be shown (a counter out of range).
Status dump_key(Context& context, Store& store, const std::string& key, std::optional<Error>& skipped) {
  auto kind = store.kind(key);
  if (!kind) {
    // Deleted between the scan and this read: nothing to print.
    return kind.error().code() == ErrorCode::kNotFound ? ok() : Status(tl::unexpected(kind.error()));
  }
  switch (*kind) {
    case ValueKind::kRegister: {
      auto value = store.get(key);
      if (!value) return value.error().code() == ErrorCode::kNotFound ? ok() : Status(tl::unexpected(value.error()));
      if (context.out.json()) {
        Json item{{"key", key}, {"type", "register"}};
        put_bytes(item, "value", value->value);
        context.out.array_item(item);
      } else {
        context.out.line(printable(key) + "\tregister\t" + printable(value->value));
      }
      return ok();
    }
    case ValueKind::kCounter: {
      auto value = store.counter(key);
      if (!value && value.error().code() == ErrorCode::kOutOfRange) {
        dump_out_of_range_counter(context, key, value.error());
        skipped = value.error();
        return ok();
      }
      if (!value) return value.error().code() == ErrorCode::kNotFound ? ok() : Status(tl::unexpected(value.error()));
      if (context.out.json()) {
        context.out.array_item(Json{{"key", key}, {"type", "counter"}, {"value", *value}});
      } else {
        context.out.line(printable(key) + "\tcounter\t" + std::to_string(*value));
      }
      return ok();
    }
    case ValueKind::kSet: return dump_set(context, store, key);
  }
  return ok();
}

}  // namespace

int dump_command(Context& context, const std::string& data_dir) {
  StoreOptions options;
  options.read_only = true;
  options.create_if_missing = false;
  auto store = Store::open(data_dir, options);
  if (!store) {
    return context.out.failure(Error(store.error().code(), "cannot open '" + data_dir + "': " + store.error().message()));
  }
  std::unique_ptr<Cursor> keys = (*store)->scan("");
  context.out.begin_array();
  Status dumped = ok();
  std::optional<Error> skipped;
  for (;;) {
    auto key = keys->next();
    if (!key) {
      dumped = tl::unexpected(key.error());
      break;
    }
    if (!*key) break;
    if (dumped = dump_key(context, **store, **key, skipped); !dumped) break;
  }
  context.out.end_array();
  if (!dumped) return context.out.failure(dumped.error());
  // Everything else was listed; the exit code still says a value could not be shown.
  if (skipped) return exit_code_for(*skipped);
  return kExitOk;
}

}  // namespace cairn::cli
