#include "src/daemon/config.h"

#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "src/util/secret_file.h"

namespace cairn::daemon {
namespace {

std::string where(const toml::node& node, std::string_view origin) {
  const toml::source_region& source = node.source();
  return std::string(origin) + ":" + std::to_string(source.begin.line);
}

Error bad_value(std::string_view origin, const toml::node& node, std::string_view key, std::string_view expected) {
  return Error(ErrorCode::kInvalidArgument,
               where(node, origin) + ": '" + std::string(key) + "' must be " + std::string(expected));
}

// Reads the keys of one table, refusing any key not in `handlers`.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string_view origin, std::string prefix)
      : table_(table), origin_(origin), prefix_(std::move(prefix)) {}

  Status string(std::string_view key, std::string& target) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return ok();
    auto value = node->value<std::string>();
    if (!value || !node->is_string()) return tl::unexpected(bad_value(origin_, *node, name(key), "a string"));
    target = *value;
    return ok();
  }

  Status boolean(std::string_view key, bool& target) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return ok();
    if (!node->is_boolean()) return tl::unexpected(bad_value(origin_, *node, name(key), "true or false"));
    target = *node->value<bool>();
    return ok();
  }

  template <typename Integer>
  Status integer(std::string_view key, Integer& target, std::int64_t min, std::int64_t max) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return ok();
    auto value = node->value_exact<std::int64_t>();
    if (!value || *value < min || *value > max) {
      return tl::unexpected(bad_value(origin_, *node, name(key),
                                      "an integer from " + std::to_string(min) + " to " + std::to_string(max)));
    }
    target = static_cast<Integer>(*value);
    return ok();
  }

  Status strings(std::string_view key, std::vector<std::string>& target) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return ok();
    const toml::array* array = node->as_array();
    if (array == nullptr) return tl::unexpected(bad_value(origin_, *node, name(key), "an array of strings"));
    std::vector<std::string> values;
    for (const toml::node& element : *array) {
      auto value = element.value<std::string>();
      if (!value || !element.is_string()) {
        return tl::unexpected(bad_value(origin_, element, name(key), "an array of strings"));
      }
      values.push_back(*value);
    }
    target = std::move(values);
    return ok();
  }

  const toml::table* table(std::string_view key) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    return node == nullptr ? nullptr : node->as_table();
  }

  Status require_table(std::string_view key) {
    const toml::node* node = table_.get(key);
    if (node != nullptr && !node->is_table()) return tl::unexpected(bad_value(origin_, *node, name(key), "a table"));
    return ok();
  }

  // Call last: every key the reader was not asked about is an error.
  Status no_unknown_keys() const {
    for (const auto& [key, node] : table_) {
      if (!known_.contains(std::string(key.str()))) {
        return fail(ErrorCode::kInvalidArgument,
                    where(node, origin_) + ": unknown key '" + name(key.str()) + "' (see docs/cairnd.md)");
      }
    }
    return ok();
  }

 private:
  std::string name(std::string_view key) const { return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key); }

  const toml::table& table_;
  std::string_view origin_;
  std::string prefix_;
  std::set<std::string> known_;
};

constexpr std::int64_t kMaxPort = std::numeric_limits<std::uint16_t>::max();
constexpr std::int64_t kMaxIntervalMs = 24LL * 3600 * 1000;

#define CAIRN_TRY(expression)                                        \
  do {                                                               \
    if (auto status_ = (expression); !status_) return status_;       \
  } while (false)

Status read_listen(const toml::table& table, std::string_view origin, NodeOptions& node) {
  TableReader reader(table, origin, "listen");
  CAIRN_TRY(reader.string("host", node.listen_host));
  CAIRN_TRY(reader.string("advertise", node.advertise_host));
  CAIRN_TRY(reader.integer("gossip_port", node.gossip_port, 0, kMaxPort));
  CAIRN_TRY(reader.string("client_host", node.client_host));
  CAIRN_TRY(reader.integer("client_port", node.client_port, 0, kMaxPort));
  CAIRN_TRY(reader.integer("http_port", node.http_port, 0, kMaxPort));
  CAIRN_TRY(reader.integer("resp_port", node.resp_port, 0, kMaxPort));
  CAIRN_TRY(reader.boolean("serve_resp", node.serve_resp));
  return reader.no_unknown_keys();
}

Status read_gossip(const toml::table& table, std::string_view origin, NodeOptions& node) {
  TableReader reader(table, origin, "gossip");
  CAIRN_TRY(reader.integer("interval_ms", node.gossip_interval_ms, 1, kMaxIntervalMs));
  CAIRN_TRY(reader.integer("protocol_period_ms", node.protocol_period_ms, 1, kMaxIntervalMs));
  CAIRN_TRY(reader.integer("suspicion_timeout_ms", node.suspicion_timeout_ms, 1, kMaxIntervalMs));
  // 0 turns automatic retirement off; at most ten years.
  CAIRN_TRY(reader.integer("retire_after_ms", node.retire_after_ms, 0, 3650 * kMaxIntervalMs));
  return reader.no_unknown_keys();
}

Status read_limits(const toml::table& table, std::string_view origin, NodeLimits& limits) {
  TableReader reader(table, origin, "limits");
  constexpr std::int64_t kMaxCount = std::int64_t{1} << 40;
  CAIRN_TRY(reader.integer("max_peer_connections", limits.max_peer_connections, 1, kMaxCount));
  CAIRN_TRY(reader.integer("max_peer_frame_bytes", limits.max_peer_frame_bytes, 1024, std::int64_t{24} << 20));
  CAIRN_TRY(reader.integer("max_members", limits.max_members, 1, kMaxCount));
  CAIRN_TRY(reader.integer("max_delta_batch_entries", limits.max_delta_batch_entries, 1, 4096));
  CAIRN_TRY(reader.integer("max_delta_batch_bytes", limits.max_delta_batch_bytes, 1, std::int64_t{24} << 20));
  CAIRN_TRY(reader.integer("max_client_connections", limits.max_client_connections, 1, kMaxCount));
  CAIRN_TRY(reader.integer("max_client_frame_bytes", limits.max_client_frame_bytes, 1024, std::int64_t{1} << 30));
  CAIRN_TRY(reader.integer("max_client_requests_in_flight", limits.max_client_requests_in_flight, 1, kMaxCount));
  return reader.no_unknown_keys();
}

}  // namespace

NodeOptions DaemonConfig::defaults() {
  NodeOptions options;
  options.serve_clients = true;
  options.serve_http = true;
  options.serve_resp = true;
  return options;
}

Result<Durability> parse_durability(std::string_view name) {
  if (name == "sync") return Durability::kSync;
  if (name == "group") return Durability::kGroup;
  if (name == "nosync") return Durability::kNoSync;
  return fail(ErrorCode::kInvalidArgument, "durability must be sync, group or nosync, not '" + std::string(name) + "'");
}

Status apply_toml(std::string_view document, std::string_view origin, DaemonConfig& config) {
  // Debian builds toml++ with exceptions: a syntax error is thrown, and turned into an Error here.
  toml::table root;
  try {
    root = toml::parse(document, origin);
  } catch (const toml::parse_error& error) {
    return fail(ErrorCode::kInvalidArgument, std::string(origin) + ":" + std::to_string(error.source().begin.line) +
                                                 ": " + std::string(error.description()));
  }
  // Work on a copy so a file with an error changes nothing.
  DaemonConfig updated = config;
  TableReader reader(root, origin, "");
  CAIRN_TRY(reader.string("data_dir", updated.node.data_dir));
  CAIRN_TRY(reader.string("cluster", updated.node.cluster_name));
  CAIRN_TRY(reader.strings("seeds", updated.node.seeds));
  CAIRN_TRY(reader.string("ports_file", updated.ports_file));
  CAIRN_TRY(reader.string("cluster_key_file", updated.cluster_key_file));
  CAIRN_TRY(reader.string("client_token_file", updated.client_token_file));
  CAIRN_TRY(reader.boolean("insecure", updated.node.insecure));
  std::string durability;
  CAIRN_TRY(reader.string("durability", durability));
  if (!durability.empty()) {
    auto parsed_durability = parse_durability(durability);
    if (!parsed_durability) return fail(ErrorCode::kInvalidArgument, std::string(origin) + ": " + parsed_durability.error().message());
    updated.node.store.durability = *parsed_durability;
  }
  std::string level;
  CAIRN_TRY(reader.string("log_level", level));
  if (!level.empty()) {
    auto parsed_level = log::parse_level(level);
    if (!parsed_level) {
      return fail(ErrorCode::kInvalidArgument, std::string(origin) + ": log_level must be debug, info, warn or error");
    }
    updated.log_level = *parsed_level;
  }
  CAIRN_TRY(reader.require_table("listen"));
  CAIRN_TRY(reader.require_table("gossip"));
  CAIRN_TRY(reader.require_table("limits"));
  if (const toml::table* listen = reader.table("listen")) CAIRN_TRY(read_listen(*listen, origin, updated.node));
  if (const toml::table* gossip = reader.table("gossip")) CAIRN_TRY(read_gossip(*gossip, origin, updated.node));
  if (const toml::table* limits = reader.table("limits")) CAIRN_TRY(read_limits(*limits, origin, updated.node.limits));
  CAIRN_TRY(reader.no_unknown_keys());
  config = std::move(updated);
  return ok();
}

Status load_secrets(DaemonConfig& config) {
  if (!config.cluster_key_file.empty()) {
    auto keys = secrets::read_secret_file(config.cluster_key_file);
    if (!keys) return fail(keys.error().code(), "cluster key file: " + keys.error().message());
    config.node.cluster_keys = std::move(*keys);
  }
  if (!config.client_token_file.empty()) {
    auto tokens = secrets::read_secret_file(config.client_token_file);
    if (!tokens) return fail(tokens.error().code(), "client token file: " + tokens.error().message());
    config.node.client_token = tokens->front();
  }
  return ok();
}

Status apply_toml_file(const std::string& path, DaemonConfig& config) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail(ErrorCode::kNotFound, "cannot read config file '" + path + "'");
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return fail(ErrorCode::kIo, "error reading config file '" + path + "'");
  return apply_toml(contents.str(), path, config);
}

}  // namespace cairn::daemon
