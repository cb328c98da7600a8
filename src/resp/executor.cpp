#include "src/resp/executor.h"

#include <set>
#include <utility>

#include "src/resp/errors.h"
#include "src/resp/reply.h"

namespace cairn::resp {
namespace {

std::string contention_error(const ExecutionEnv& env) {
  return reply::error("ERR the keys this command reads changed " +
                      std::to_string(env.options.max_plan_attempts) + " times while it ran; try again");
}

std::string reply_of(const Plan& plan) {
  return plan.reply_after_commit ? plan.reply_after_commit() : plan.reply;
}

// An error reply's text without its '-' and line end, to quote it inside EXECABORT.
std::string error_text(const std::string& encoded) {
  if (encoded.size() < 3) return encoded;
  return encoded.substr(1, encoded.size() - 3);
}

std::string exec_abort(std::size_t index, const QueuedCommand& command, const std::string& why) {
  return reply::error("EXECABORT Transaction discarded because command " + std::to_string(index + 1) + " ('" +
                      std::string(command.spec->name) + "') " + why);
}

// Whether `plan` depends on a key the transaction's earlier commands write.
bool depends_on_written(const Plan& plan, const std::set<std::string>& written, bool wrote_everything) {
  for (const std::string& key : plan.depends_on) {
    // An empty name stands for every key (KEYS, SCAN, DBSIZE inside a transaction).
    if (wrote_everything || (key.empty() ? !written.empty() : written.contains(key))) return true;
  }
  return false;
}

// EXEC's reply: the array of the plans' replies.
std::string replies_of(const std::vector<Plan>& plans) {
  std::string out;
  reply::array_header(out, plans.size());
  for (const Plan& plan : plans) out += reply_of(plan);
  return out;
}

}  // namespace

Attempt plan_command(const ExecutionEnv& env, const CommandSpec& spec, const std::vector<std::string>& args,
                     bool kind_changed) {
  Attempt attempt;
  attempt.name = spec.name;
  CommandContext ctx{args, env.services, env.shared, env.options};
  ctx.kind_changed = kind_changed;
  ctx.client_id = env.client_id;
  Plan plan = spec.handler(ctx);
  if (plan.failed || plan.writes.empty()) {
    attempt.reply = reply_of(plan);
    return attempt;
  }
  attempt.expectations = std::move(plan.expectations);
  attempt.writes = std::move(plan.writes);
  attempt.plans.push_back(std::move(plan));
  return attempt;
}

Attempt plan_transaction(const ExecutionEnv& env, const std::vector<QueuedCommand>& commands, bool kind_changed) {
  Attempt attempt;
  attempt.transaction = true;
  attempt.name = "exec";
  const auto abort = [&](std::string reply) {
    attempt.reply = std::move(reply);
    return std::move(attempt);
  };
  std::set<std::string> written;
  bool wrote_everything = false;
  std::size_t reply_bytes = 0;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    CommandContext ctx{commands[i].args, env.services, env.shared, env.options};
    ctx.in_transaction = true;
    ctx.written = &written;
    ctx.wrote_everything = wrote_everything;
    ctx.kind_changed = kind_changed;
    ctx.client_id = env.client_id;
    Plan plan = commands[i].spec->handler(ctx);
    if (plan.failed) return abort(exec_abort(i, commands[i], "failed: " + error_text(plan.reply)));
    reply_bytes += plan.reply.size();
    if (reply_bytes > env.options.max_collected_reply_bytes) {
      return abort(exec_abort(i, commands[i],
                              "would take the replies past " + std::to_string(env.options.max_collected_reply_bytes) +
                                  " bytes (cairn's limit for one collected reply)"));
    }
    if (depends_on_written(plan, written, wrote_everything)) {
      return abort(exec_abort(i, commands[i],
                              "reads a key an earlier command of the transaction writes, which cairn cannot plan "
                              "before that write is made (send it after EXEC)"));
    }
    for (WriteOp& write : plan.writes) {
      if (write.kind == WriteOp::Kind::kDeleteAll) {
        wrote_everything = true;
      } else {
        written.insert(write.key);
      }
      attempt.writes.push_back(std::move(write));
    }
    plan.writes.clear();
    for (Expectation& expectation : plan.expectations) attempt.expectations.push_back(std::move(expectation));
    plan.expectations.clear();
    attempt.plans.push_back(std::move(plan));
  }
  if (attempt.writes.empty()) attempt.reply = replies_of(attempt.plans);
  return attempt;
}

std::optional<std::string> settle(const ExecutionEnv& env, const Attempt& attempt, const Result<bool>& applied,
                                  unsigned attempt_number, bool& kind_changed) {
  const bool last = attempt_number + 1 >= env.options.max_plan_attempts;
  if (!applied) {
    if (applied.error().code() == ErrorCode::kWrongType && !last) {
      kind_changed = true;  // A kind appeared since the plan read the key: plan again.
      return std::nullopt;
    }
    if (attempt.transaction) {
      return reply::error("EXECABORT Transaction discarded: " + errors::from_store(applied.error(), "exec"));
    }
    return reply::error(errors::from_store(applied.error(), attempt.name));
  }
  if (!*applied) {
    if (last) return contention_error(env);
    return std::nullopt;  // A key changed between the plan's reads and the commit.
  }
  if (attempt.transaction) return replies_of(attempt.plans);
  return reply_of(attempt.plans.front());
}

namespace {

template <typename PlanOnce>
std::string execute(const ExecutionEnv& env, PlanOnce&& plan_once) {
  bool kind_changed = false;
  for (unsigned number = 0; number < env.options.max_plan_attempts; ++number) {
    Attempt attempt = plan_once(kind_changed);
    if (attempt.reply) return std::move(*attempt.reply);
    auto applied = env.services.batch.apply(attempt.expectations, attempt.writes);
    if (auto reply = settle(env, attempt, applied, number, kind_changed)) return std::move(*reply);
  }
  return contention_error(env);
}

}  // namespace

std::string execute_command(const ExecutionEnv& env, const CommandSpec& spec,
                            const std::vector<std::string>& args) {
  return execute(env, [&](bool kind_changed) { return plan_command(env, spec, args, kind_changed); });
}

std::string execute_transaction(const ExecutionEnv& env, const std::vector<QueuedCommand>& commands) {
  return execute(env, [&](bool kind_changed) { return plan_transaction(env, commands, kind_changed); });
}

}  // namespace cairn::resp
