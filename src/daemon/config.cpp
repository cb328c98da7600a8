#include "src/daemon/config.h"

#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "src/daemon/settings.h"
#include "src/util/secret_file.h"

namespace cairn::daemon {
namespace {

std::string where(const toml::node& node, std::string_view origin) {
  const toml::source_region& source = node.source();
  return std::string(origin) + ":" + std::to_string(source.begin.line);
}

Status refuse(std::string_view origin, const toml::node& node, const std::string& message) {
  return fail(ErrorCode::kInvalidArgument, where(node, origin) + ": " + message);
}

// The TOML node as the value its setting's type reads; a node of another kind becomes a value of
// another alternative, which check_setting_value() refuses with the message the type states.
SettingValue read_value(const Setting& setting, const toml::node& node) {
  switch (setting.type) {
    case SettingType::kString:
    case SettingType::kChoice:
      if (node.is_string()) return *node.value<std::string>();
      break;
    case SettingType::kBool:
      if (node.is_boolean()) return *node.value<bool>();
      break;
    case SettingType::kInteger:
      if (auto value = node.value_exact<std::int64_t>()) return *value;
      break;
    case SettingType::kStrings:
      if (const toml::array* array = node.as_array()) {
        std::vector<std::string> values;
        for (const toml::node& element : *array) {
          if (!element.is_string()) return false;
          values.push_back(*element.value<std::string>());
        }
        return values;
      }
      break;
  }
  // A node of another kind: a value of an alternative this type never reads, which
  // check_setting_value() refuses.
  return setting.type == SettingType::kBool ? SettingValue(std::string()) : SettingValue(false);
}

// Reads one key (`key` is the full dotted key) of the document into `config`.
Status read_key(const std::string& key, const toml::node& node, std::string_view origin, DaemonConfig& config) {
  const Setting* setting = find_setting(key);
  if (setting == nullptr) return refuse(origin, node, "unknown key '" + key + "' (see docs/cairnd.md)");
  const SettingValue value = read_value(*setting, node);
  if (auto valid = check_setting_value(*setting, value); !valid) return refuse(origin, node, valid.error().message());
  setting->assign(config, value);
  return ok();
}

// True when some setting's key is "`name`.something": `name` is a table of the document.
bool is_table_name(std::string_view name) {
  for (const Setting& setting : settings()) {
    if (setting.key.size() > name.size() && setting.key.compare(0, name.size(), name) == 0 &&
        setting.key[name.size()] == '.') {
      return true;
    }
  }
  return false;
}

Status read_document(const toml::table& root, std::string_view origin, DaemonConfig& config) {
  for (const auto& [name, node] : root) {
    const std::string key(name.str());
    if (!is_table_name(key)) {
      if (auto read = read_key(key, node, origin, config); !read) return read;
      continue;
    }
    const toml::table* table = node.as_table();
    if (table == nullptr) return refuse(origin, node, "'" + key + "' must be a table");
    for (const auto& [inner, value] : *table) {
      if (auto read = read_key(key + "." + std::string(inner.str()), value, origin, config); !read) return read;
    }
  }
  return ok();
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
  if (auto read = read_document(root, origin, updated); !read) return read;
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
