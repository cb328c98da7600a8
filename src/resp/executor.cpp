#include "src/resp/executor.h"

#include <set>

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

}  // namespace

std::string execute_command(const ExecutionEnv& env, const CommandSpec& spec,
                            const std::vector<std::string>& args) {
  bool kind_changed = false;
  for (unsigned attempt = 0; attempt < env.options.max_plan_attempts; ++attempt) {
    CommandContext ctx{args, env.services, env.shared, env.options};
    ctx.kind_changed = kind_changed;
    ctx.client_id = env.client_id;
    Plan plan = spec.handler(ctx);
    if (plan.failed || plan.writes.empty()) return reply_of(plan);
    auto applied = env.services.batch.apply(plan.expectations, plan.writes);
    if (!applied) {
      if (applied.error().code() == ErrorCode::kWrongType && attempt + 1 < env.options.max_plan_attempts) {
        kind_changed = true;  // A kind appeared since the plan read the key: plan again.
        continue;
      }
      return reply::error(errors::from_store(applied.error(), spec.name));
    }
    if (*applied) return reply_of(plan);
  }
  return contention_error(env);
}

std::string execute_transaction(const ExecutionEnv& env, const std::vector<QueuedCommand>& commands) {
  bool kind_changed = false;
  for (unsigned attempt = 0; attempt < env.options.max_plan_attempts; ++attempt) {
    std::set<std::string> written;
    bool wrote_everything = false;
    std::vector<Plan> plans;
    std::vector<Expectation> expectations;
    std::vector<WriteOp> writes;
    std::size_t reply_bytes = 0;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      CommandContext ctx{commands[i].args, env.services, env.shared, env.options};
      ctx.in_transaction = true;
      ctx.written = &written;
      ctx.wrote_everything = wrote_everything;
      ctx.kind_changed = kind_changed;
      ctx.client_id = env.client_id;
      Plan plan = commands[i].spec->handler(ctx);
      if (plan.failed) return exec_abort(i, commands[i], "failed: " + error_text(plan.reply));
      reply_bytes += plan.reply.size();
      if (reply_bytes > env.options.max_collected_reply_bytes) {
        return exec_abort(i, commands[i],
                          "would take the replies past " +
                              std::to_string(env.options.max_collected_reply_bytes) +
                              " bytes (cairn's limit for one collected reply)");
      }
      if (depends_on_written(plan, written, wrote_everything)) {
        return exec_abort(i, commands[i],
                          "reads a key an earlier command of the transaction writes, which cairn cannot plan "
                          "before that write is made (send it after EXEC)");
      }
      for (WriteOp& write : plan.writes) {
        if (write.kind == WriteOp::Kind::kDeleteAll) {
          wrote_everything = true;
        } else {
          written.insert(write.key);
        }
        writes.push_back(std::move(write));
      }
      plan.writes.clear();
      for (Expectation& expectation : plan.expectations) expectations.push_back(std::move(expectation));
      plans.push_back(std::move(plan));
    }
    if (!writes.empty()) {
      auto applied = env.services.batch.apply(expectations, writes);
      if (!applied) {
        if (applied.error().code() == ErrorCode::kWrongType && attempt + 1 < env.options.max_plan_attempts) {
          kind_changed = true;
          continue;
        }
        return reply::error("EXECABORT Transaction discarded: " +
                            errors::from_store(applied.error(), "exec"));
      }
      if (!*applied) continue;
    }
    std::string out;
    reply::array_header(out, plans.size());
    for (const Plan& plan : plans) out += reply_of(plan);
    return out;
  }
  return contention_error(env);
}

}  // namespace cairn::resp
