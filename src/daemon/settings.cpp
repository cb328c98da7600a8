#include "src/daemon/settings.h"

#include <limits>
#include <utility>

#include "cairn/defaults.h"
#include "src/util/log.h"

namespace cairn::daemon {
namespace {

constexpr std::int64_t kMaxPort = std::numeric_limits<std::uint16_t>::max();
constexpr std::int64_t kMaxIntervalMs = 24LL * 3600 * 1000;
constexpr std::int64_t kMaxCount = std::int64_t{1} << 40;  // Connections, members: beyond any machine.
// Frame limits below this could not carry a request or a delta-group's header.
constexpr std::int64_t kMinFrameBytes = 1024;
constexpr std::int64_t kMaxClientFrameBytes = std::int64_t{1} << 30;
// 0 turns automatic retirement off; at most ten years.
constexpr std::int64_t kMaxRetireAfterMs = 3650 * kMaxIntervalMs;

std::string durability_name(Durability durability) {
  switch (durability) {
    case Durability::kSync: return "sync";
    case Durability::kGroup: return "group";
    case Durability::kNoSync: return "nosync";
  }
  return "unknown";
}

// Seeds as a reload names them: "[a, b]".
std::string joined(const std::vector<std::string>& values) {
  std::string text = "[";
  for (const std::string& value : values) text += (text.size() > 1 ? ", " : "") + value;
  return text + "]";
}

// "a, b or c".
std::string listed(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += i + 1 == names.size() ? " or " : ", ";
    text += names[i];
  }
  return text;
}

// The parts of a row every type shares. `access` maps a configuration (const or not) to the field.
template <typename Access>
Setting row(Setting setting, Access access) {
  setting.copy = [access](const DaemonConfig& from, DaemonConfig& to) { access(to) = access(from); };
  return setting;
}

template <typename Access>
Setting text(Setting setting, Access access) {
  setting.type = SettingType::kString;
  setting.show = [access](const DaemonConfig& config) { return std::string(access(config)); };
  setting.assign = [access](DaemonConfig& config, const SettingValue& value) {
    access(config) = std::get<std::string>(value);
  };
  return row(std::move(setting), access);
}

template <typename Access>
Setting texts(Setting setting, Access access) {
  setting.type = SettingType::kStrings;
  setting.show = [access](const DaemonConfig& config) { return joined(access(config)); };
  setting.assign = [access](DaemonConfig& config, const SettingValue& value) {
    access(config) = std::get<std::vector<std::string>>(value);
  };
  return row(std::move(setting), access);
}

template <typename Access>
Setting boolean(Setting setting, Access access) {
  setting.type = SettingType::kBool;
  setting.show = [access](const DaemonConfig& config) { return std::string(access(config) ? "true" : "false"); };
  setting.assign = [access](DaemonConfig& config, const SettingValue& value) { access(config) = std::get<bool>(value); };
  return row(std::move(setting), access);
}

template <typename Access>
Setting integer(Setting setting, std::int64_t min, std::int64_t max, Access access) {
  setting.type = SettingType::kInteger;
  setting.min = min;
  setting.max = max;
  setting.show = [access](const DaemonConfig& config) { return std::to_string(access(config)); };
  setting.assign = [access](DaemonConfig& config, const SettingValue& value) {
    using Field = std::remove_reference_t<decltype(access(config))>;
    access(config) = static_cast<Field>(std::get<std::int64_t>(value));
  };
  return row(std::move(setting), access);
}

// A named choice: `name` maps the field to its name, `parse` a known name back.
template <typename Access, typename Name, typename Parse>
Setting choice(Setting setting, std::vector<std::string> choices, Access access, Name name, Parse parse) {
  setting.type = SettingType::kChoice;
  setting.choices = std::move(choices);
  setting.show = [access, name](const DaemonConfig& config) { return std::string(name(access(config))); };
  setting.assign = [access, parse](DaemonConfig& config, const SettingValue& value) {
    access(config) = *parse(std::get<std::string>(value));
  };
  return row(std::move(setting), access);
}

// A port row whose flag also takes `off`: `served` is the field saying whether the port is served.
template <typename Served>
Setting served_port(Setting setting, Served served) {
  setting.set_served = [served](DaemonConfig& config, bool on) { served(config) = on; };
  return setting;
}

Setting named(std::string key, std::string flag, bool reloadable, std::string help, std::string doc,
              std::string doc_default = "") {
  Setting setting;
  setting.key = std::move(key);
  setting.flag = std::move(flag);
  setting.reloadable = reloadable;
  setting.help = std::move(help);
  setting.doc = std::move(doc);
  setting.doc_default = std::move(doc_default);
  return setting;
}

constexpr bool kReloads = true;
constexpr bool kRestart = false;

#define CAIRN_FIELD(expression) [](auto& c) -> auto& { return c.expression; }

std::vector<Setting> build_settings() {
  const std::string max_push = std::to_string(kProtocolMaxDeltaPushEntries);
  return {
      text(named("data_dir", "--data-dir", kRestart, "Directory of the store (created if missing)",
                 "the store's directory (created if missing)"),
           CAIRN_FIELD(node.data_dir)),
      text(named("cluster", "--cluster", kRestart, "Cluster name; peers of other clusters are ignored",
                 "cluster name; frames of other clusters are dropped"),
           CAIRN_FIELD(node.cluster_name)),
      texts(named("seeds", "--seed", kRestart, "A peer to join through, host:port (repeatable)",
                  "peers to join through, `host:port` of their gossip port", "none"),
            CAIRN_FIELD(node.seeds)),
      choice(named("durability", "--durability", kRestart, "sync, group or nosync (see docs/store.md)",
                   "`sync`, `group` or `nosync` ([store.md](store.md))"),
             {"sync", "group", "nosync"}, CAIRN_FIELD(node.store.durability), durability_name, parse_durability),
      integer(named("partitions", "--partitions", kRestart,
                    "Partition count of a NEW store, a power of two up to " + std::to_string(kMaxPartitionCount) +
                        " (default " + std::to_string(kDefaultPartitionCount) +
                        "); an existing store keeps its own, and a different value is a startup error",
                    "the cluster's partition count, fixed when the store is created: a power of two up to " +
                        std::to_string(kMaxPartitionCount) + "; every peer of a cluster must have the same "
                        "([partitions.md](partitions.md)); 0: the default for a new store, the stored count for "
                        "an existing one",
                    "0 (" + std::to_string(kDefaultPartitionCount) + " for a new store)"),
              0, kMaxPartitionCount, CAIRN_FIELD(node.store.partition_count)),
      integer(named("change_feed.max_changes", "--change-feed-max-changes", kRestart,
                    "Changes the change feed keeps for watchers that resume (0: no limit; docs/watch.md)",
                    "changes the change feed keeps for watchers that resume ([watch.md](watch.md)); `0`: no limit"),
              0, kMaxCount, CAIRN_FIELD(node.store.change_retention.max_changes)),
      integer(named("change_feed.max_age_ms", "--change-feed-max-age-ms", kRestart,
                    "Age of the oldest change the change feed keeps (0: no limit)",
                    "age of the oldest change the feed keeps; `0`: no limit", "`%v` (24 h)"),
              0, kMaxCount * 1000, CAIRN_FIELD(node.store.change_retention.max_age_ms)),
      integer(named("change_feed.max_bytes", "--change-feed-max-bytes", kRestart,
                    "Bytes the change feed's database may occupy (0: no limit)",
                    "bytes of LMDB pages the feed may occupy; `0`: no limit", "`%v` (256 MiB)"),
              0, kMaxCount, CAIRN_FIELD(node.store.change_retention.max_bytes)),
      choice(named("log_level", "--log-level", kReloads, "debug, info, warn or error", "`debug`, `info`, `warn`, `error`"),
             {"debug", "info", "warn", "error"}, CAIRN_FIELD(log_level),
             [](log::Level level) { return log::to_string(level); },
             [](std::string_view name) { return log::parse_level(name); }),
      choice(named("log_format", "--log-format", kReloads, "Log lines on stderr: text, or json (one object per line)",
                   "`text`, or `json`: one JSON object per line (see [Logs](#logs))"),
             {"text", "json"}, CAIRN_FIELD(log_format), [](LogFormat format) { return to_string(format); },
             parse_log_format),
      text(named("ports_file", "--ports-file", kRestart, "Also write the ready line to this file",
                 "also write the ready line to this file", "none"),
           CAIRN_FIELD(ports_file)),
      text(named("cluster_key_file", "--cluster-key-file", kRestart,
                 "File of the cluster key(s), one per line, the first seals (default: DATA_DIR/cluster.key, "
                 "created on first start; copy it to every peer)",
                 "the cluster key(s), one per line (64 hex digits); the first seals, all are accepted",
                 "`DATA_DIR/cluster.key`"),
           CAIRN_FIELD(cluster_key_file)),
      text(named("client_token_file", "--client-token-file", kRestart,
                 "File of the token clients must present (default: DATA_DIR/client.token, created on first start)",
                 "the token clients must present", "`DATA_DIR/client.token`"),
           CAIRN_FIELD(client_token_file)),
      boolean(named("insecure", "--insecure", kRestart,
                    "Send and accept UNSEALED peer traffic: anyone who reaches the gossip port can join, read and "
                    "write (tests and trusted networks only; logged as a warning)",
                    "send and accept **unsealed** peer traffic (warned about in the log)"),
              CAIRN_FIELD(node.insecure)),
      text(named("listen.host", "--listen", kRestart, "Address to listen on for gossip (IP literal or localhost)",
                 "address the gossip port binds"),
           CAIRN_FIELD(node.listen_host)),
      text(named("listen.advertise", "--advertise", kRestart, "Address other peers reach this one at (default: --listen)",
                 "address other peers should use for this one", "`listen.host`"),
           CAIRN_FIELD(node.advertise_host)),
      integer(named("listen.gossip_port", "--gossip-port", kRestart, "Gossip port, UDP and TCP (0: ephemeral)",
                    "gossip port (UDP and TCP)"),
              0, kMaxPort, CAIRN_FIELD(node.gossip_port)),
      text(named("listen.client_host", "--client-listen", kRestart,
                 "Address the client and HTTP ports listen on (loopback unless told otherwise)",
                 "address the client and HTTP ports bind"),
           CAIRN_FIELD(node.client_host)),
      integer(named("listen.client_port", "--client-port", kRestart, "Client protocol port, TCP (0: ephemeral)",
                    "client protocol port"),
              0, kMaxPort, CAIRN_FIELD(node.client_port)),
      integer(named("listen.http_port", "--http-port", kRestart, "HTTP port for /health and /metrics (0: ephemeral)",
                    "HTTP port"),
              0, kMaxPort, CAIRN_FIELD(node.http_port)),
      served_port(integer(named("listen.resp_port", "--resp-port", kRestart,
                                "RESP2 port for redis-cli and Redis clients, TCP (0: ephemeral; off: not served)",
                                "RESP2 port ([resp.md](resp.md)); the flag's `off` turns it off"),
                          0, kMaxPort, CAIRN_FIELD(node.resp_port)),
                  CAIRN_FIELD(node.serve_resp)),
      boolean(named("listen.serve_resp", "", kRestart, "", "serve the RESP port at all (`--resp-port off`: false)"),
              CAIRN_FIELD(node.serve_resp)),
      integer(named("gossip.interval_ms", "--gossip-interval-ms", kRestart, "How often deltas are pushed to neighbours",
                    "how often new deltas go to neighbours"),
              1, kMaxIntervalMs, CAIRN_FIELD(node.gossip_interval_ms)),
      integer(named("gossip.protocol_period_ms", "", kRestart, "", "SWIM probe period"), 1, kMaxIntervalMs,
              CAIRN_FIELD(node.protocol_period_ms)),
      integer(named("gossip.suspicion_timeout_ms", "", kRestart, "",
                    "how long a suspect member has to refute before it is declared dead"),
              1, kMaxIntervalMs, CAIRN_FIELD(node.suspicion_timeout_ms)),
      integer(named("gossip.retire_after_ms", "", kRestart, "",
                    "a member dead or left this long is retired ([metadata-gc.md](metadata-gc.md)); `0`: only "
                    "`cairn retire` retires peers",
                    "`%v` (7 days)"),
              0, kMaxRetireAfterMs, CAIRN_FIELD(node.retire_after_ms)),
      integer(named("limits.max_peer_connections", "", kRestart, "", "inbound gossip TCP connections open at once"),
              1, kMaxCount, CAIRN_FIELD(node.limits.max_peer_connections)),
      integer(named("limits.max_peer_frame_bytes", "", kRestart, "",
                    "largest peer frame payload (same on every peer, above the largest delta)", "`%v` (24 MiB)"),
              kMinFrameBytes, kProtocolMaxFramePayloadBytes, CAIRN_FIELD(node.limits.max_peer_frame_bytes)),
      integer(named("limits.max_members", "", kRestart, "", "membership table size"), 1, kMaxCount,
              CAIRN_FIELD(node.limits.max_members)),
      integer(named("limits.max_delta_batch_entries", "", kRestart, "",
                    "delta-log entries per push (1 to " + max_push + ")"),
              1, kProtocolMaxDeltaPushEntries, CAIRN_FIELD(node.limits.max_delta_batch_entries)),
      integer(named("limits.max_delta_batch_bytes", "", kRestart, "",
                    "bytes per push (a larger single entry goes alone)", "`%v` (4 MiB)"),
              1, kProtocolMaxFramePayloadBytes, CAIRN_FIELD(node.limits.max_delta_batch_bytes)),
      integer(named("limits.max_client_connections", "", kReloads, "", "client connections open at once"), 1,
              kMaxCount, CAIRN_FIELD(node.limits.max_client_connections)),
      integer(named("limits.max_client_frame_bytes", "", kReloads, "", "largest client request payload",
                    "`%v` (16 MiB + 64 KiB)"),
              kMinFrameBytes, kMaxClientFrameBytes, CAIRN_FIELD(node.limits.max_client_frame_bytes)),
      integer(named("limits.max_client_requests_in_flight", "", kReloads, "",
                    "requests of one client connection queued or running"),
              1, kMaxCount, CAIRN_FIELD(node.limits.max_client_requests_in_flight)),
  };
}

#undef CAIRN_FIELD

std::string code(const std::string& text) { return "`" + text + "`"; }

std::string doc_default(const Setting& setting, const DaemonConfig& defaults) {
  const std::string value = setting.show(defaults);
  if (setting.doc_default.empty()) return code(value);
  std::string text = setting.doc_default;
  if (const auto at = text.find("%v"); at != std::string::npos) text.replace(at, 2, value);
  return text;
}

}  // namespace

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = build_settings();
  return all;
}

const Setting* find_setting(std::string_view key) {
  for (const Setting& setting : settings()) {
    if (setting.key == key) return &setting;
  }
  return nullptr;
}

Status check_setting_value(const Setting& setting, const SettingValue& value) {
  const std::string name = "'" + setting.key + "'";
  switch (setting.type) {
    case SettingType::kString:
      if (!std::holds_alternative<std::string>(value)) return fail(ErrorCode::kInvalidArgument, name + " must be a string");
      return ok();
    case SettingType::kStrings:
      if (!std::holds_alternative<std::vector<std::string>>(value)) {
        return fail(ErrorCode::kInvalidArgument, name + " must be an array of strings");
      }
      return ok();
    case SettingType::kBool:
      if (!std::holds_alternative<bool>(value)) return fail(ErrorCode::kInvalidArgument, name + " must be true or false");
      return ok();
    case SettingType::kInteger: {
      const auto* number = std::get_if<std::int64_t>(&value);
      if (number == nullptr || *number < setting.min || *number > setting.max) {
        return fail(ErrorCode::kInvalidArgument, name + " must be an integer from " + std::to_string(setting.min) +
                                                     " to " + std::to_string(setting.max));
      }
      return ok();
    }
    case SettingType::kChoice: {
      const auto* text = std::get_if<std::string>(&value);
      if (text == nullptr) return fail(ErrorCode::kInvalidArgument, name + " must be a string");
      for (const std::string& known : setting.choices) {
        if (*text == known) return ok();
      }
      return fail(ErrorCode::kInvalidArgument,
                  setting.key + " must be " + listed(setting.choices) + ", not '" + *text + "'");
    }
  }
  return fail(ErrorCode::kInvalidArgument, name + " has an unknown type");
}

std::string settings_markdown() {
  const DaemonConfig defaults;
  std::string table = "| config key | flag | default | on SIGHUP | meaning |\n|---|---|---|---|---|\n";
  for (const Setting& setting : settings()) {
    std::string flag;
    if (!setting.flag.empty()) flag = code(setting.flag) + (setting.type == SettingType::kStrings ? " (repeatable)" : "");
    table += "| " + code(setting.key) + " | " + flag + " | " + doc_default(setting, defaults) + " | " +
             (setting.reloadable ? "applied" : "restart") + " | " + setting.doc + " |\n";
  }
  return table;
}

}  // namespace cairn::daemon
