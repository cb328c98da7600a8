// The `cairn` CLI's exit codes: stable, documented in `cairn --help`, for scripts to branch on.
#pragma once

#include "cairn/status.h"

namespace cairn::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // Any other failure reported by the peer or the store (corrupt, I/O, ...).
  kExitUsage = 2,          // Bad command line.
  kExitUnavailable = 3,    // Cannot connect, connection lost, timed out, or the data directory is busy.
  kExitNotFound = 4,       // The key (or data directory) does not exist.
  kExitWrongType = 5,      // The key holds another kind of value.
  kExitInvalid = 6,        // The peer refused the request: invalid argument or a size limit.
  kExitUnauthenticated = 7,  // The peer refused the client token (missing or wrong).
};

inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok, 1 other error, 2 usage, 3 cannot connect / connection lost / timed out,\n"
    "            4 not found, 5 wrong type, 6 invalid argument or limit exceeded,\n"
    "            7 the peer refused the client token (none found, or a wrong one).";

inline int exit_code_for(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kNotFound: return kExitNotFound;
    case ErrorCode::kWrongType: return kExitWrongType;
    case ErrorCode::kUnavailable: return kExitUnavailable;
    case ErrorCode::kUnauthenticated: return kExitUnauthenticated;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kLimitExceeded: return kExitInvalid;
    default: return kExitError;
  }
}

}  // namespace cairn::cli
