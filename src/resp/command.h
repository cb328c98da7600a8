// What a RESP command is to the session: a table entry (name, arity, flags) and a handler that plans
// it. A plan says what the command read, what it will write (as one BatchWriter batch) and what it
// answers; the executor (executor.h) applies the writes and sends the reply, and a transaction joins
// the plans of its commands into one batch. Handlers never write to the store themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/metrics.h"
#include "cairn/node.h"
#include "cairn/store.h"
#include "src/resp/batch.h"
#include "src/resp/counters.h"
#include "src/resp/limits.h"
#include "src/resp/scan_cursors.h"
#include "src/util/rng.h"

namespace cairn::resp {

// What the RESP front door serves. `store` and `batch` are borrowed and must outlive every session;
// `status` and `metrics` may be empty (INFO and CAIRN.PEERS then say there is no node). Every callback
// is called on a worker thread, several at once: they must be thread-safe and must not wait for the
// loop thread.
struct Services {
  Store& store;
  BatchWriter& batch;
  std::function<NodeStatus()> status = {};
  std::function<std::vector<MetricSample>()> metrics = {};
};

struct RespOptions {
  // The client token AUTH must present (compared in constant time). Empty: no authentication (tests of
  // the protocol itself; a peer always sets one).
  std::string client_token;
  RequestLimits limits;
  // Commands of one connection read and not yet answered; beyond it the session stops reading (the
  // listener stops reading the socket) until some are answered.
  std::size_t max_in_flight_commands = 256;
  // KEYS and SMEMBERS collect their reply before sending it (a RESP2 array states its length first);
  // one that would pass this many bytes answers an error instead (SCAN/SSCAN page through any size).
  // MGET, CAIRN.VALUES, CAIRN.INSPECT and EXEC's replies are held to it as well; SCAN and SSCAN stop a
  // page at this size.
  std::size_t max_collected_reply_bytes = std::size_t{16} << 20;
  // Commands a MULTI may queue, and their argument bytes together; past either the transaction is
  // refused at EXEC (EXECABORT), as for any error while queueing.
  std::size_t max_transaction_commands = 10'000;
  std::size_t max_transaction_bytes = std::size_t{64} << 20;
  // How often a command re-reads and re-plans when a key changed under it (an expectation failed, or a
  // write met a kind that appeared meanwhile) before answering an error.
  unsigned max_plan_attempts = 8;
};

// State every session of one peer shares. Thread-safe. Saved SCAN cursors hold the store: RespShared
// must be destroyed before it.
class RespShared {
 public:
  // `seed` draws SCAN cursor numbers and RANDOMKEY's start (reproducible in tests).
  explicit RespShared(std::uint64_t seed, std::size_t scan_cursor_capacity = 1024)
      : cursors(scan_cursor_capacity, seed), rng_(seed ^ 0x5eed5eed5eed5eedULL) {}

  RespCounters counters;
  ScanCursors cursors;

  // CLIENT ID: 1, 2, 3, ... in the order sessions start.
  std::uint64_t new_client_id() {
    std::lock_guard lock(mutex_);
    return next_client_id_++;
  }
  std::uint64_t random() {
    std::lock_guard lock(mutex_);
    return rng_.next();
  }

 private:
  std::mutex mutex_;
  std::uint64_t next_client_id_ = 1;
  Rng rng_;
};

// What a command will do.
struct Plan {
  // The reply: sent once `writes` are committed, or at once when there are none.
  std::string reply;
  // `reply` is an error and nothing is to be written; inside a transaction it aborts the transaction.
  bool failed = false;
  std::vector<Expectation> expectations;
  std::vector<WriteOp> writes;
  // Keys whose state the plan or its reply was computed from. Inside a transaction a command may not
  // depend on a key an earlier command of it writes (the batch is planned before anything is written).
  std::vector<std::string> depends_on;
  // When set, builds the reply after the commit instead of `reply` (INCR reads the counter it changed).
  std::function<std::string()> reply_after_commit;
};

// Everything a handler may use. `args[0]` is the command name as sent.
struct CommandContext {
  const std::vector<std::string>& args;
  const Services& services;
  RespShared& shared;
  const RespOptions& options;
  // Planning a command inside EXEC: `written` holds the keys the transaction's earlier commands write
  // (`wrote_everything` after a FLUSHDB), whose state this plan must not read.
  bool in_transaction = false;
  const std::set<std::string>* written = nullptr;
  bool wrote_everything = false;
  // The previous plan of this command failed because a key held another kind than it read (a write met
  // kWrongType): plan as if every key might hold anything.
  bool kind_changed = false;
  // The session's client id.
  std::uint64_t client_id = 0;

  bool written_earlier(const std::string& key) const {
    return wrote_everything || (written != nullptr && written->contains(key));
  }
};

using Handler = Plan (*)(CommandContext&);

enum CommandFlag : std::uint32_t {
  kWrite = 1u << 0,     // May write (Redis flag "write").
  kReadOnly = 1u << 1,  // Only reads ("readonly").
  kFast = 1u << 2,      // O(1) or O(log n) ("fast").
  kNoAuth = 1u << 3,    // Allowed before AUTH ("no-auth").
  kSession = 1u << 4,   // Answered by the session itself, never planned (AUTH, MULTI, CLIENT, ...).
  kNoMulti = 1u << 5,   // Not queued inside MULTI ("no-multi").
  kAdmin = 1u << 6,     // Administrative ("admin").
};

struct CommandSpec {
  std::string_view name;  // Lower case.
  // Redis's arity: N means exactly N arguments (the name included), -N at least N.
  int arity = 0;
  std::uint32_t flags = 0;
  // Key positions as COMMAND INFO reports them: the first and last key argument and the step between
  // keys (0 0 0: no keys; a negative last counts from the end).
  int first_key = 0, last_key = 0, key_step = 0;
  std::string_view group;     // "string", "set", "generic", "server", "connection", "transactions", "cairn".
  std::string_view summary;   // One line, for COMMAND DOCS.
  Handler handler = nullptr;  // Null for kSession commands.
};

// The command named `name` (any case), or null.
const CommandSpec* find_command(std::string_view name);
// Every command, in the order of the table.
const std::vector<CommandSpec>& all_commands();
// True when `args` has the number of arguments `spec` takes.
bool arity_ok(const CommandSpec& spec, std::size_t argument_count);

// Plans that answer at once.
Plan answer(std::string reply);
Plan refuse(std::string_view error_text);

// The lower-case copy of `text` (ASCII), for comparing command names and options.
std::string lower(std::string_view text);
bool equals_ignoring_case(std::string_view a, std::string_view b);

}  // namespace cairn::resp
