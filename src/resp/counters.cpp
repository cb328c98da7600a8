#include "src/resp/counters.h"

namespace cairn::resp {

void RespCounters::connection_opened() {
  std::lock_guard lock(mutex_);
  ++stats_.connections_accepted;
  ++stats_.connections_open;
}

void RespCounters::connection_closed() {
  std::lock_guard lock(mutex_);
  if (stats_.connections_open > 0) --stats_.connections_open;
}

void RespCounters::command(std::string_view name) {
  std::lock_guard lock(mutex_);
  ++stats_.commands_processed;
  ++stats_.commands_by_name[std::string(name)];
}

void RespCounters::error_reply(std::string_view text) {
  const std::string code(text.substr(0, text.find(' ')));
  std::lock_guard lock(mutex_);
  ++stats_.error_replies_by_code[code];
}

void RespCounters::protocol_error() {
  std::lock_guard lock(mutex_);
  ++stats_.protocol_errors;
}

void RespCounters::authentication_failure() {
  std::lock_guard lock(mutex_);
  ++stats_.authentication_failures;
}

void RespCounters::latency(std::string_view command, std::chrono::nanoseconds elapsed) {
  std::lock_guard lock(mutex_);
  metrics::observe(stats_.latency_by_command, command, elapsed);
}

RespStats RespCounters::snapshot() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace cairn::resp
