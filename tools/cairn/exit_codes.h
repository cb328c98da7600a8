// The `cairn` CLI's exit codes: stable, documented in `cairn --help`, for scripts to branch on.
#pragma once

#include "cairn/status.h"

namespace cairn::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // Any other failure reported by the peer or the store (corrupt, I/O, ...).
  kExitUsage = 2,          // Bad command line.
  kExitUnavailable = 3,    // The request was not sent (cannot connect, ...), or the data directory is busy.
  kExitNotFound = 4,       // The key (or data directory) does not exist.
  kExitWrongType = 5,      // The key holds another kind of value.
  // The peer refused the request: invalid argument, a size limit, or a counter out of the int64 range.
  kExitInvalid = 6,
  kExitUnauthenticated = 7,  // The peer refused the client token (missing or wrong).
  // The request was sent but no reply came (timed out, connection lost): a write may or may not have
  // taken effect.
  kExitOutcomeUnknown = 8,
  // watch --since: the peer's change feed no longer holds the changes after that position (or it is
  // another store's): start over from a snapshot (docs/watch.md).
  kExitPositionExpired = 9,
};

inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok, 1 other error, 2 usage, 3 not sent (cannot connect, connection already lost),\n"
    "            4 not found, 5 wrong type, 6 invalid argument, limit exceeded or counter out of range,\n"
    "            7 the peer refused the client token (none found, or a wrong one),\n"
    "            8 sent but no reply came (timed out, connection lost): a write may or may not have\n"
    "              taken effect; read the key to find out before retrying.";

inline int exit_code_for(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kNotFound: return kExitNotFound;
    case ErrorCode::kWrongType: return kExitWrongType;
    case ErrorCode::kUnavailable: return kExitUnavailable;
    case ErrorCode::kUnauthenticated: return kExitUnauthenticated;
    case ErrorCode::kOutcomeUnknown: return kExitOutcomeUnknown;
    case ErrorCode::kPositionExpired: return kExitPositionExpired;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kLimitExceeded:
    case ErrorCode::kOutOfRange: return kExitInvalid;
    default: return kExitError;
  }
}

}  // namespace cairn::cli
