// Runs planned commands: one on its own, or the commands of a MULTI as one atomic batch.
//
// A command is planned (its handler reads the store), its writes applied through the BatchWriter, and
// its reply sent once they are committed. When a key changed between the plan's reads and the commit
// (an expectation failed, or a write met a kind that appeared meanwhile) the command is planned again,
// up to RespOptions::max_plan_attempts times.
//
// EXEC (docs/resp.md, "Transactions"): every queued command is planned in order against the store as
// it is before the transaction, all their writes go into one batch (all or nothing), and the replies
// are sent as one array once it is committed. Unlike Redis, an error in any command aborts the whole
// transaction (EXECABORT, nothing written), and a command that depends on a key an earlier command of
// the transaction writes is refused the same way (it cannot be planned before that write exists).
//
// The session (session.h) plans on its step, hands the batch to BatchWriter::apply_async and settles
// the outcome on a later step, so no thread waits for the commit; execute_command and
// execute_transaction are the same steps run synchronously.
//
// Threads: any thread (it calls the store); several at once for different sessions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/resp/command.h"

namespace cairn::resp {

// What a command runs with besides its arguments.
struct ExecutionEnv {
  const Services& services;
  RespShared& shared;
  const RespOptions& options;
  std::uint64_t client_id = 0;
};

// A command queued by MULTI.
struct QueuedCommand {
  const CommandSpec* spec = nullptr;
  std::vector<std::string> args;
};

// One planning of a command or of a transaction: either its reply, decided without a write, or the
// batch to apply (expectations and writes) and the plans whose replies go out once it is committed.
struct Attempt {
  std::optional<std::string> reply;
  bool transaction = false;
  std::string_view name;  // The command's (for error texts).
  std::vector<Plan> plans;
  std::vector<Expectation> expectations;
  std::vector<WriteOp> writes;
};

// Plans one command (spec.handler is set) or a transaction, reading the store. `kind_changed`: the
// previous attempt met a kind that appeared since its plan (CommandContext::kind_changed).
Attempt plan_command(const ExecutionEnv& env, const CommandSpec& spec, const std::vector<std::string>& args,
                     bool kind_changed);
Attempt plan_transaction(const ExecutionEnv& env, const std::vector<QueuedCommand>& commands, bool kind_changed);

// The reply of `attempt` (number `attempt_number`, from 0) once its batch was applied with `applied`,
// or nullopt when it must be planned again (an expectation did not hold, or a kind appeared: then
// `kind_changed` is set). After max_plan_attempts the reply is the contention error.
std::optional<std::string> settle(const ExecutionEnv& env, const Attempt& attempt, const Result<bool>& applied,
                                  unsigned attempt_number, bool& kind_changed);

// The encoded reply to one planned command, planned and written synchronously (BatchWriter::apply).
std::string execute_command(const ExecutionEnv& env, const CommandSpec& spec,
                            const std::vector<std::string>& args);

// The encoded reply to EXEC: an array of the commands' replies, or an EXECABORT error.
std::string execute_transaction(const ExecutionEnv& env, const std::vector<QueuedCommand>& commands);

}  // namespace cairn::resp
