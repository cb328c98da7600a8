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
// Threads: called on a worker thread (it calls the store); several at once for different sessions.
#pragma once

#include <string>
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

// The encoded reply to one planned command (spec.handler is set).
std::string execute_command(const ExecutionEnv& env, const CommandSpec& spec,
                            const std::vector<std::string>& args);

// The encoded reply to EXEC: an array of the commands' replies, or an EXECABORT error.
std::string execute_transaction(const ExecutionEnv& env, const std::vector<QueuedCommand>& commands);

}  // namespace cairn::resp
