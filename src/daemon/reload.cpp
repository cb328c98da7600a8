#include "src/daemon/reload.h"

#include <functional>

#include "src/util/log.h"

namespace cairn::daemon {
namespace {

struct Setting {
  const char* key;
  bool reloadable;
  std::function<std::string(const DaemonConfig&)> show;
};

std::string durability_name(Durability durability) {
  switch (durability) {
    case Durability::kSync: return "sync";
    case Durability::kGroup: return "group";
    case Durability::kNoSync: return "nosync";
  }
  return "unknown";
}

std::string joined(const std::vector<std::string>& values) {
  std::string text = "[";
  for (const std::string& value : values) text += (text.size() > 1 ? ", " : "") + value;
  return text + "]";
}

template <typename Number>
std::function<std::string(const DaemonConfig&)> number(Number NodeOptions::*field) {
  return [field](const DaemonConfig& config) { return std::to_string(config.node.*field); };
}

std::function<std::string(const DaemonConfig&)> limit(std::size_t NodeLimits::*field) {
  return [field](const DaemonConfig& config) { return std::to_string(config.node.limits.*field); };
}

// Every setting of docs/cairnd.md, in its order.
const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = {
      {"data_dir", false, [](const DaemonConfig& c) { return c.node.data_dir; }},
      {"cluster", false, [](const DaemonConfig& c) { return c.node.cluster_name; }},
      {"seeds", false, [](const DaemonConfig& c) { return joined(c.node.seeds); }},
      {"durability", false, [](const DaemonConfig& c) { return durability_name(c.node.store.durability); }},
      {"log_level", true, [](const DaemonConfig& c) { return std::string(log::to_string(c.log_level)); }},
      {"ports_file", false, [](const DaemonConfig& c) { return c.ports_file; }},
      {"cluster_key_file", false, [](const DaemonConfig& c) { return c.cluster_key_file; }},
      {"client_token_file", false, [](const DaemonConfig& c) { return c.client_token_file; }},
      {"insecure", false, [](const DaemonConfig& c) { return std::string(c.node.insecure ? "true" : "false"); }},
      {"listen.host", false, [](const DaemonConfig& c) { return c.node.listen_host; }},
      {"listen.advertise", false, [](const DaemonConfig& c) { return c.node.advertise_host; }},
      {"listen.gossip_port", false, number(&NodeOptions::gossip_port)},
      {"listen.client_host", false, [](const DaemonConfig& c) { return c.node.client_host; }},
      {"listen.client_port", false, number(&NodeOptions::client_port)},
      {"listen.http_port", false, number(&NodeOptions::http_port)},
      {"listen.resp_port", false, number(&NodeOptions::resp_port)},
      {"listen.serve_resp", false, [](const DaemonConfig& c) { return std::string(c.node.serve_resp ? "true" : "false"); }},
      {"gossip.interval_ms", false, number(&NodeOptions::gossip_interval_ms)},
      {"gossip.protocol_period_ms", false, number(&NodeOptions::protocol_period_ms)},
      {"gossip.suspicion_timeout_ms", false, number(&NodeOptions::suspicion_timeout_ms)},
      {"gossip.retire_after_ms", false, number(&NodeOptions::retire_after_ms)},
      {"limits.max_peer_connections", false, limit(&NodeLimits::max_peer_connections)},
      {"limits.max_peer_frame_bytes", false, limit(&NodeLimits::max_peer_frame_bytes)},
      {"limits.max_members", false, limit(&NodeLimits::max_members)},
      {"limits.max_delta_batch_entries", false, limit(&NodeLimits::max_delta_batch_entries)},
      {"limits.max_delta_batch_bytes", false, limit(&NodeLimits::max_delta_batch_bytes)},
      {"limits.max_client_connections", true, limit(&NodeLimits::max_client_connections)},
      {"limits.max_client_frame_bytes", true, limit(&NodeLimits::max_client_frame_bytes)},
      {"limits.max_client_requests_in_flight", true, limit(&NodeLimits::max_client_requests_in_flight)},
  };
  return all;
}

std::string describe(const std::vector<SettingChange>& changes) {
  std::string text;
  for (const SettingChange& change : changes) {
    if (!text.empty()) text += ", ";
    text += change.key + " " + (change.before.empty() ? "\"\"" : change.before) + " -> " +
            (change.after.empty() ? "\"\"" : change.after);
  }
  return text;
}

// The running limits with the client limits of `loaded`.
NodeLimits with_client_limits(NodeLimits running, const NodeLimits& loaded) {
  running.max_client_connections = loaded.max_client_connections;
  running.max_client_frame_bytes = loaded.max_client_frame_bytes;
  running.max_client_requests_in_flight = loaded.max_client_requests_in_flight;
  return running;
}

}  // namespace

std::vector<SettingChange> changed_settings(const DaemonConfig& running, const DaemonConfig& loaded) {
  std::vector<SettingChange> changes;
  for (const Setting& setting : settings()) {
    std::string before = setting.show(running), after = setting.show(loaded);
    if (before != after) changes.push_back({setting.key, std::move(before), std::move(after), setting.reloadable});
  }
  return changes;
}

void apply_reload(const Result<DaemonConfig>& loaded, const std::string& origin, DaemonConfig& running, Node& node) {
  if (!loaded) {
    log::error("cairnd", "SIGHUP: cannot reload " + origin + ": " + loaded.error().message() + "; nothing changed");
    return;
  }
  std::vector<SettingChange> applied, need_restart;
  for (SettingChange& change : changed_settings(running, *loaded)) {
    (change.reloadable ? applied : need_restart).push_back(std::move(change));
  }
  const NodeLimits limits = with_client_limits(running.node.limits, loaded->node.limits);
  if (auto set = node.set_client_limits(limits); !set) {
    log::error("cairnd", "SIGHUP: cannot apply the client limits of " + origin + ": " + set.error().message() +
                             "; nothing changed");
    return;
  }
  running.node.limits = limits;
  running.log_level = loaded->log_level;
  log::set_level(running.log_level);
  // The answer to an operator's SIGHUP is always written, also when the (new) level hides info lines.
  log::write(log::Level::kInfo, "cairnd",
             "SIGHUP: reloaded " + origin + ": " + (applied.empty() ? "nothing to change" : describe(applied)));
  if (!need_restart.empty()) {
    log::warn("cairnd", "SIGHUP: " + origin + " changes " + describe(need_restart) +
                            ", which takes effect only after a restart");
  }
}

}  // namespace cairn::daemon
