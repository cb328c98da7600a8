// cairnd's SIGHUP: re-reads the settings (defaults, the config file, the flags, as at start) and
// applies what can change while the peer runs.
//
// Reloadable at once: the settings the table marks so (src/daemon/settings.h; today log_level, log_format
// and the client limits, applied through Node::set_client_limits). Any other setting
// that differs is logged as taking effect only after a restart, and is not applied. Flags keep winning
// over the file. Settings that cannot be read or parsed change nothing; the log says why.
#pragma once

#include <string>
#include <vector>

#include "cairn/node.h"
#include "cairn/status.h"
#include "src/daemon/config.h"

namespace cairn::daemon {

// One setting, named as its config key, whose value differs between two configurations.
struct SettingChange {
  std::string key;  // "log_level", "limits.max_client_connections", "listen.client_port", ...
  std::string before, after;
  bool reloadable = false;  // Applied by apply_reload() without a restart.
};

// Every setting of docs/cairnd.md whose value differs from `running` to `loaded`, in the docs' order.
// The secrets themselves are not compared (only the files' paths).
std::vector<SettingChange> changed_settings(const DaemonConfig& running, const DaemonConfig& loaded);

// On the thread that handles SIGHUP. `loaded` is what settings_from() read now from `origin` (the
// config file). Applies the reloadable changes to the log level and `node`, records them in
// `running`, and logs one line saying what changed (written whatever the log level), one warning
// listing what needs a restart, or one error saying why nothing changed.
void apply_reload(const Result<DaemonConfig>& loaded, const std::string& origin, DaemonConfig& running, Node& node);

}  // namespace cairn::daemon
