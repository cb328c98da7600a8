// What a SIGHUP reload compares (src/daemon/reload.h): every setting of docs/cairnd.md by its config
// key, with only the log level and the client limits marked as applied without a restart.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "src/daemon/reload.h"

using cairn::daemon::changed_settings;
using cairn::daemon::DaemonConfig;
using cairn::daemon::SettingChange;

TEST_CASE("a reload finds nothing changed between equal settings", "[config][reload]") {
  CHECK(changed_settings(DaemonConfig{}, DaemonConfig{}).empty());
}

TEST_CASE("a reload names each changed setting, before and after, and whether it applies at once",
          "[config][reload]") {
  const DaemonConfig running;
  DaemonConfig loaded;
  loaded.log_level = cairn::log::Level::kDebug;
  loaded.node.limits.max_client_connections = 5;
  loaded.node.limits.max_client_frame_bytes = 4096;
  loaded.node.limits.max_client_requests_in_flight = 7;
  loaded.node.limits.max_peer_connections = 9;
  loaded.node.client_port = 7500;
  loaded.node.seeds = {"10.0.0.2:7400", "10.0.0.3:7400"};
  loaded.node.store.durability = cairn::Durability::kSync;
  loaded.node.advertise_host = "10.0.0.1";
  const auto changes = changed_settings(running, loaded);
  std::set<std::string> at_once, after_restart;
  for (const SettingChange& change : changes) (change.reloadable ? at_once : after_restart).insert(change.key);
  CHECK(at_once == std::set<std::string>{"log_level", "limits.max_client_connections", "limits.max_client_frame_bytes",
                                         "limits.max_client_requests_in_flight"});
  CHECK(after_restart == std::set<std::string>{"seeds", "durability", "listen.advertise", "listen.client_port",
                                               "limits.max_peer_connections"});
  for (const SettingChange& change : changes) {
    if (change.key == "log_level") CHECK((change.before == "info" && change.after == "debug"));
    if (change.key == "seeds") CHECK((change.before == "[]" && change.after == "[10.0.0.2:7400, 10.0.0.3:7400]"));
    if (change.key == "durability") CHECK((change.before == "group" && change.after == "sync"));
    if (change.key == "listen.client_port") CHECK((change.before == "7401" && change.after == "7500"));
  }
}
