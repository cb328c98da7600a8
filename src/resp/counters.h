// RespCounters: what every RESP session of a peer has done, for INFO and metrics. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "src/metrics/latency_histogram.h"

namespace cairn::resp {

struct RespStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t commands_processed = 0;
  std::map<std::string, std::uint64_t> commands_by_name;  // Lower-case names of the command table.
  // Error replies by their code: "ERR", "WRONGTYPE", "NOAUTH", "WRONGPASS", "EXECABORT", ...
  std::map<std::string, std::uint64_t> error_replies_by_code;
  std::uint64_t protocol_errors = 0;          // Connections closed for breaking the protocol.
  std::uint64_t authentication_failures = 0;  // AUTH or HELLO AUTH with a wrong token.
  // Seconds from a command's last byte read to its reply queued for the socket, by lower-case command
  // name ("exec" for a transaction), for the commands that run on a step (those that touch the store).
  metrics::LatencyByOp latency_by_command;
};

class RespCounters {
 public:
  void connection_opened();
  void connection_closed();
  void command(std::string_view name);
  // Counts an error reply by the code its text starts with.
  void error_reply(std::string_view text);
  void protocol_error();
  void authentication_failure();
  void latency(std::string_view command, std::chrono::nanoseconds elapsed);
  RespStats snapshot() const;

 private:
  mutable std::mutex mutex_;
  RespStats stats_;
};

}  // namespace cairn::resp
