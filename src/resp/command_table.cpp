// The RESP command table: every command cairn answers, with Redis's arity, flags and key positions
// (what COMMAND INFO reports to clients that probe it). docs/resp.md describes each one.
#include <algorithm>
#include <cctype>

#include "src/resp/command.h"
#include "src/resp/handlers.h"
#include "src/resp/reply.h"

namespace cairn::resp {
namespace {

namespace h = handlers;

constexpr std::uint32_t kRead = kReadOnly;
constexpr std::uint32_t kReadFast = kReadOnly | kFast;
constexpr std::uint32_t kWriteFast = kWrite | kFast;
constexpr std::uint32_t kConnection = kSession | kFast;

const std::vector<CommandSpec>& table() {
  static const std::vector<CommandSpec> commands = {
      // Strings (registers; counters read as strings).
      {"get", 2, kReadFast, 1, 1, 1, "string", "Returns the string value of a key.", h::get},
      {"set", -3, kWrite, 1, 1, 1, "string", "Sets the string value of a key (NX, XX, GET).", h::set},
      {"setnx", 3, kWriteFast, 1, 1, 1, "string", "Sets a key only when it does not exist.", h::setnx},
      {"getset", 3, kWriteFast, 1, 1, 1, "string", "Sets a key and returns its previous value.", h::getset},
      {"mget", -2, kReadFast, 1, -1, 1, "string", "Returns the values of several keys.", h::mget},
      {"mset", -3, kWrite, 1, -1, 2, "string", "Sets several keys in one atomic batch.", h::mset},
      {"strlen", 2, kReadFast, 1, 1, 1, "string", "Returns the length of a string value.", h::strlen},
      {"append", 3, kWriteFast, 1, 1, 1, "string", "Appends to a string value.", h::append},
      // Counters.
      {"incr", 2, kWriteFast, 1, 1, 1, "string", "Increments a counter by one.", h::incr},
      {"decr", 2, kWriteFast, 1, 1, 1, "string", "Decrements a counter by one.", h::decr},
      {"incrby", 3, kWriteFast, 1, 1, 1, "string", "Increments a counter by an integer.", h::incrby},
      {"decrby", 3, kWriteFast, 1, 1, 1, "string", "Decrements a counter by an integer.", h::decrby},
      // Sets.
      {"sadd", -3, kWriteFast, 1, 1, 1, "set", "Adds members to a set.", h::sadd},
      {"srem", -3, kWriteFast, 1, 1, 1, "set", "Removes members from a set.", h::srem},
      {"smembers", 2, kRead, 1, 1, 1, "set", "Returns every member of a set.", h::smembers},
      {"sismember", 3, kReadFast, 1, 1, 1, "set", "Tells whether a member is in a set.", h::sismember},
      {"smismember", -3, kReadFast, 1, 1, 1, "set", "Tells whether each of several members is in a set.",
       h::smismember},
      {"scard", 2, kRead, 1, 1, 1, "set", "Returns the number of members of a set.", h::scard},
      {"sscan", -3, kRead, 1, 1, 1, "set", "Iterates over the members of a set.", h::sscan},
      // Keys.
      {"del", -2, kWrite, 1, -1, 1, "generic", "Deletes keys.", h::del},
      {"unlink", -2, kWriteFast, 1, -1, 1, "generic", "Deletes keys.", h::del},
      {"exists", -2, kReadFast, 1, -1, 1, "generic", "Counts the keys that exist.", h::exists},
      {"type", 2, kReadFast, 1, 1, 1, "generic", "Returns the type of a key.", h::type},
      {"ttl", 2, kReadFast, 1, 1, 1, "generic", "Returns a key's time to live in seconds (-1: none).",
       h::ttl},
      {"pttl", 2, kReadFast, 1, 1, 1, "generic", "Returns a key's time to live in milliseconds (-1: none).",
       h::ttl},
      {"keys", 2, kRead, 0, 0, 0, "generic", "Returns every key matching a pattern.", h::keys},
      {"scan", -2, kRead, 0, 0, 0, "generic", "Iterates over the keys.", h::scan},
      {"dbsize", 1, kRead, 0, 0, 0, "server", "Returns the number of keys.", h::dbsize},
      {"randomkey", 1, kRead, 0, 0, 0, "generic", "Returns a key.", h::randomkey},
      {"flushdb", -1, kWrite, 0, 0, 0, "server", "Deletes every key (an observed remove, replicated).",
       h::flushdb},
      {"flushall", -1, kWrite, 0, 0, 0, "server", "Deletes every key (an observed remove, replicated).",
       h::flushdb},
      {"expire", -3, kWriteFast, 1, 1, 1, "generic", "Not supported yet: cairn has no expiry.", h::expire},
      {"pexpire", -3, kWriteFast, 1, 1, 1, "generic", "Not supported yet: cairn has no expiry.", h::expire},
      {"expireat", -3, kWriteFast, 1, 1, 1, "generic", "Not supported yet: cairn has no expiry.", h::expire},
      {"pexpireat", -3, kWriteFast, 1, 1, 1, "generic", "Not supported yet: cairn has no expiry.", h::expire},
      {"setex", 4, kWrite, 1, 1, 1, "string", "Not supported yet: cairn has no expiry.", h::expire},
      {"psetex", 4, kWrite, 1, 1, 1, "string", "Not supported yet: cairn has no expiry.", h::expire},
      // Transactions.
      {"multi", 1, kConnection | kNoMulti, 0, 0, 0, "transactions", "Starts a transaction.", nullptr},
      {"exec", 1, kSession | kNoMulti, 0, 0, 0, "transactions", "Runs a transaction as one atomic batch.",
       nullptr},
      {"discard", 1, kConnection | kNoMulti, 0, 0, 0, "transactions", "Discards a transaction.", nullptr},
      {"watch", -2, kConnection | kNoMulti, 1, -1, 1, "transactions", "Not supported: answers an error.",
       nullptr},
      {"unwatch", 1, kFast, 0, 0, 0, "transactions", "Does nothing (no key is ever watched).", h::unwatch},
      // Connection.
      {"auth", -2, kConnection | kNoAuth | kNoMulti, 0, 0, 0, "connection",
       "Authenticates with the client token.", nullptr},
      {"hello", -1, kConnection | kNoAuth | kNoMulti, 0, 0, 0, "connection",
       "Handshakes (RESP2 only), optionally authenticating.", nullptr},
      {"quit", -1, kConnection | kNoAuth | kNoMulti, 0, 0, 0, "connection", "Closes the connection.",
       nullptr},
      {"client", -2, kSession | kNoMulti, 0, 0, 0, "connection", "Connection's id, name and library.",
       nullptr},
      {"ping", -1, kFast, 0, 0, 0, "connection", "Answers PONG, or its argument.", h::ping},
      {"echo", 2, kFast, 0, 0, 0, "connection", "Answers its argument.", h::echo},
      {"select", 2, kFast, 0, 0, 0, "connection", "Selects database 0 (the only one).", h::select},
      // Server.
      {"info", -1, kRead, 0, 0, 0, "server", "Returns information about this peer.", h::info},
      {"command", -1, kRead, 0, 0, 0, "server", "Describes the commands.", h::command},
      {"config", -2, kAdmin, 0, 0, 0, "server", "Reads settings clients ask for; changes none.", h::config},
      // cairn's own view.
      {"cairn.values", 2, kReadFast, 1, 1, 1, "cairn", "Every surviving value of a register, winner first.",
       h::cairn_values},
      {"cairn.inspect", 2, kRead, 1, 1, 1, "cairn",
       "A key's CRDT metadata: kinds, writer, versions, version vector.", h::cairn_inspect},
      {"cairn.peers", 1, kRead, 0, 0, 0, "cairn",
       "The cluster members this peer knows, with replication lag.", h::cairn_peers},
      {"cairn.ring", 1, kRead, 0, 0, 0, "cairn", "The ring positions of this peer and its members.",
       h::cairn_ring},
  };
  return commands;
}

}  // namespace

std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

const std::vector<CommandSpec>& all_commands() { return table(); }

const CommandSpec* find_command(std::string_view name) {
  if (name.size() > 32) return nullptr;  // No command name is this long; spares lowering a huge argument.
  const std::string wanted = lower(name);
  for (const CommandSpec& spec : table()) {
    if (spec.name == wanted) return &spec;
  }
  return nullptr;
}

bool arity_ok(const CommandSpec& spec, std::size_t argument_count) {
  const auto count = static_cast<long long>(argument_count);
  return spec.arity >= 0 ? count == spec.arity : count >= -static_cast<long long>(spec.arity);
}

Plan answer(std::string reply) {
  Plan plan;
  plan.reply = std::move(reply);
  return plan;
}

Plan refuse(std::string_view error_text) {
  Plan plan;
  plan.reply = reply::error(error_text);
  plan.failed = true;
  return plan;
}

}  // namespace cairn::resp
