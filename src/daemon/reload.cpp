#include "src/daemon/reload.h"

#include "src/daemon/settings.h"
#include "src/util/log.h"

namespace cairn::daemon {
namespace {

std::string describe(const std::vector<SettingChange>& changes) {
  std::string text;
  for (const SettingChange& change : changes) {
    if (!text.empty()) text += ", ";
    text += change.key + " " + (change.before.empty() ? "\"\"" : change.before) + " -> " +
            (change.after.empty() ? "\"\"" : change.after);
  }
  return text;
}

// `running` with the reloadable settings of `loaded` (the settings table says which).
DaemonConfig with_reloadable(DaemonConfig running, const DaemonConfig& loaded) {
  for (const Setting& setting : settings()) {
    if (setting.reloadable) setting.copy(loaded, running);
  }
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
  DaemonConfig next = with_reloadable(running, *loaded);
  // The node takes the client limits of `next` (its other limits are the running ones).
  if (auto set = node.set_client_limits(next.node.limits); !set) {
    log::error("cairnd", "SIGHUP: cannot apply the client limits of " + origin + ": " + set.error().message() +
                             "; nothing changed");
    return;
  }
  running = std::move(next);
  log::set_level(running.log_level);
  apply_log_format(running.log_format);
  // The answer to an operator's SIGHUP is always written, also when the (new) level hides info lines.
  log::write(log::Level::kInfo, "cairnd",
             "SIGHUP: reloaded " + origin + ": " + (applied.empty() ? "nothing to change" : describe(applied)));
  if (!need_restart.empty()) {
    log::warn("cairnd", "SIGHUP: " + origin + " changes " + describe(need_restart) +
                            ", which takes effect only after a restart");
  }
}

}  // namespace cairn::daemon
