// put/get/del, sadd/srem/smembers/sismember, incr/decr/counter, keys/scan.
#include <functional>

#include "tools/cairn/commands.h"
#include "tools/cairn/exit_codes.h"

namespace cairn::cli {

int with_client(Context& context, const std::function<Status(Client&)>& call) {
  auto client = Client::connect(context.client);
  if (!client) {
    const bool unreachable = client.error().code() == ErrorCode::kUnavailable;
    return context.out.failure(
        unreachable ? Error(client.error().code(), client.error().message() +
                                                       " (is cairnd running there? choose the peer with --connect HOST:PORT)")
                    : client.error());
  }
  if (auto done = call(**client); !done) return context.out.failure(done.error());
  return kExitOk;
}

namespace {

// Prints "OK" (text) or {"ok":true} (JSON) after a write.
Status acknowledged(const Context& context) {
  if (context.out.json()) {
    context.out.document(Json{{"ok", true}});
  } else {
    context.out.line("OK");
  }
  return ok();
}

// Streams the items `list` produces: a line each in text, an array of strings in JSON.
Status stream_strings(Context& context,
                      const std::function<Status(const std::function<bool(const std::string&)>&)>& list) {
  context.out.begin_array();
  Status listed = list([&](const std::string& item) {
    if (context.out.json()) {
      context.out.array_item(bytes_value(item));
    } else {
      context.out.line(printable(item));
    }
    return true;
  });
  context.out.end_array();
  return listed;
}

}  // namespace

int put_command(Context& context, const std::string& key, const std::string& value) {
  return with_client(context, [&](Client& client) -> Status {
    if (auto done = client.put(key, value); !done) return done;
    return acknowledged(context);
  });
}

int get_command(Context& context, const std::string& key) {
  return with_client(context, [&](Client& client) -> Status {
    auto value = client.get(key);
    if (!value) return tl::unexpected(value.error());
    if (context.out.json()) {
      Json json{{"key", key}};
      put_bytes(json, "value", value->value);
      Json concurrent = Json::array();
      for (const std::string& other : value->concurrent) {
        Json element;
        put_bytes(element, "value", other);
        concurrent.push_back(element);
      }
      json["concurrent"] = concurrent;
      context.out.document(json);
    } else {
      context.out.line(printable(value->value));
      for (const std::string& other : value->concurrent) {
        context.out.line("(concurrent, lost the tie-break) " + printable(other));
      }
    }
    return ok();
  });
}

int get_raw_command(Context& context, const std::string& key) {
  return with_client(context, [&](Client& client) -> Status {
    auto value = client.get(key);
    if (!value) return tl::unexpected(value.error());
    context.out.raw(value->value);
    return ok();
  });
}

int del_command(Context& context, const std::string& key) {
  return with_client(context, [&](Client& client) -> Status {
    if (auto done = client.del(key); !done) return done;
    return acknowledged(context);
  });
}

int sadd_command(Context& context, const std::string& key, const std::vector<std::string>& members) {
  return with_client(context, [&](Client& client) -> Status {
    if (auto done = client.sadd(key, members); !done) return done;
    return acknowledged(context);
  });
}

int srem_command(Context& context, const std::string& key, const std::vector<std::string>& members) {
  return with_client(context, [&](Client& client) -> Status {
    if (auto done = client.srem(key, members); !done) return done;
    return acknowledged(context);
  });
}

int smembers_command(Context& context, const std::string& key) {
  return with_client(context, [&](Client& client) {
    return stream_strings(context, [&](const auto& each) { return client.smembers(key, each); });
  });
}

int sismember_command(Context& context, const std::string& key, const std::string& member) {
  return with_client(context, [&](Client& client) -> Status {
    auto present = client.sismember(key, member);
    if (!present) return tl::unexpected(present.error());
    if (context.out.json()) {
      Json json{{"key", key}};
      put_bytes(json, "member", member);
      json["is_member"] = *present;
      context.out.document(json);
    } else {
      context.out.line(*present ? "true" : "false");
    }
    return ok();
  });
}

namespace {

// Reads and prints a counter: its value (text) or {"key","value"} (JSON).
Status print_counter(const Context& context, Client& client, const std::string& key) {
  auto value = client.counter(key);
  if (!value) return tl::unexpected(value.error());
  if (context.out.json()) {
    context.out.document(Json{{"key", key}, {"value", *value}});
  } else {
    context.out.line(std::to_string(*value));
  }
  return ok();
}

}  // namespace

int incr_command(Context& context, const std::string& key, std::int64_t amount) {
  return with_client(context, [&](Client& client) -> Status {
    const std::uint64_t magnitude =
        amount < 0 ? static_cast<std::uint64_t>(-(amount + 1)) + 1 : static_cast<std::uint64_t>(amount);
    if (auto done = amount < 0 ? client.decr(key, magnitude) : client.incr(key, magnitude); !done) return done;
    // The value read right after the write: other writers may already have moved it.
    Status printed = print_counter(context, client, key);
    if (printed || printed.error().code() != ErrorCode::kOutOfRange) return printed;
    // The write was applied (it moved a merged total back toward the range, or others moved it
    // since): only the value it leaves cannot be shown as an int64. Not a failure of this command.
    if (context.out.json()) {
      context.out.document(Json{{"key", key}, {"value", nullptr}, {"out_of_range", true}, {"message", printed.error().message()}});
    } else {
      context.out.line("applied; " + printed.error().message());
    }
    return ok();
  });
}

int counter_command(Context& context, const std::string& key) {
  return with_client(context, [&](Client& client) { return print_counter(context, client, key); });
}

int scan_command(Context& context, const std::string& prefix) {
  return with_client(context, [&](Client& client) {
    return stream_strings(context, [&](const auto& each) { return client.scan(prefix, each); });
  });
}

}  // namespace cairn::cli
