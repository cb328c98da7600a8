// cairnd's exit codes: what a script or a service manager can branch on (docs/cairnd.md, `cairnd --help`).
#pragma once

namespace cairn::daemon {

// Stopped cleanly after SIGINT or SIGTERM (every acknowledged write committed), or --help.
inline constexpr int kExitOk = 0;
// The peer could not start: a port in use, the data directory held by another process, an unreadable
// store, a malformed cluster key. The one line on stderr says what and why.
inline constexpr int kExitCannotStart = 1;
// A usage error: an unknown flag, a bad flag value, a config file missing or invalid, a key or token
// file that cannot be read.
inline constexpr int kExitUsage = 2;

}  // namespace cairn::daemon
