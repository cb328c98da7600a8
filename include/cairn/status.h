// The result type every fallible cairn call returns across a module boundary.
//
// Expected failures (a key that is absent, a record that fails to decode, a full LMDB map) are values,
// never exceptions: a call returns `Result<T>`, which holds either the T or an `Error` with a code a
// program can branch on and a message a person can read. Asserts are kept for bugs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace cairn {

// Stable codes: programs (and the CLI's exit codes) branch on them, so never renumber one.
enum class ErrorCode : std::uint8_t {
  kNotFound = 1,         // The key, member or record does not exist.
  kWrongType = 2,        // The key holds another CRDT type (e.g. a set operation on a register).
  kCorrupt = 3,          // Stored or received bytes failed to decode or broke an invariant.
  kLimitExceeded = 4,    // A documented size or count limit was exceeded; nothing was written.
  kMapFull = 5,          // The LMDB map is full and may not grow; the store stays readable.
  kIo = 6,               // The operating system reported an I/O error.
  kProtocol = 7,         // A peer or client broke the wire protocol (bad frame, wrong version).
  kInvalidArgument = 8,  // The caller passed a value the call does not accept.
  kUnsupported = 9,      // A format or protocol version this build does not understand.
  kUnavailable = 10,     // The resource is busy or closed (e.g. the data directory is locked).
  kUnauthenticated = 11, // The client did not present the peer's client token (missing or wrong).
  // The request was sent but no reply came (timed out, or the connection ended first): it may or may
  // not have taken effect. Only the client library reports it; a peer never sends it.
  kOutcomeUnknown = 12,
  // A counter's value would leave the signed 64-bit range (the increment or decrement was refused and
  // nothing was written), or merged concurrent contributions already took it out (the read fails).
  kOutOfRange = 13,
  // A change-feed position can no longer be resumed from: the changes after it were trimmed by the
  // feed's retention, or it names another store's feed (or an older copy of this one). Start over
  // from a snapshot (docs/watch.md).
  kPositionExpired = 14,
};

// The lower-case name of a code, e.g. "not_found"; used in logs, `--json` output and metrics labels.
std::string_view to_string(ErrorCode code) noexcept;

// An expected failure: a code to branch on plus a message that says what happened and to what.
class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // "<code>: <message>", the form used in logs and by the CLI.
  std::string to_string() const;

  friend bool operator==(const Error&, const Error&) = default;

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
using Result = tl::expected<T, Error>;

// The result of a call that returns nothing but may fail.
using Status = Result<void>;

// Builds the failed side of a Result: `return fail(ErrorCode::kNotFound, "no key " + key);`.
inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}

// The successful Status.
inline Status ok() { return {}; }

}  // namespace cairn
