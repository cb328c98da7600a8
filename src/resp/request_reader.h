// RequestReader: turns a connection's bytes into Redis commands, incrementally (sans I/O).
//
// Both request forms are read: multibulk ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", what every client library
// sends) and inline ("GET k\r\n", what a person types into telnet), as Redis decides between them: a
// request starting with '*' is multibulk, anything else inline. Empty requests ("*0\r\n", "*-1\r\n",
// a blank line) are skipped. Bytes may arrive split anywhere; the result never depends on how.
//
// Limits (limits.h). A request breaking the protocol or a limit yields Redis's error text for it
// ("Protocol error: invalid bulk length", ...; the caller prefixes "ERR "), after which the reader is
// failed for good: the caller answers the error and closes the connection, as Redis does. Nothing a
// header announces is allocated before the bytes arrive: a "*1048576" header reserves room for at most
// kReservedArguments arguments, a "$16777216" header nothing; the buffer only ever holds bytes received.
//
// As in Redis, the two bytes after a bulk's data are skipped without being checked, and a count line
// ends at '\r' (the byte after it is skipped).
//
// Threads: none of its own; one thread at a time (the session calls it under its lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/resp/limits.h"

namespace cairn::resp {

class RequestReader {
 public:
  enum class Outcome { kNeedMore, kCommand, kError };

  explicit RequestReader(RequestLimits limits = {});

  // Before authentication the stricter limits of RequestLimits apply to every request read next.
  void set_authenticated(bool authenticated) { authenticated_ = authenticated; }

  // Appends received bytes (kept until a request is read from them).
  void append(std::string_view bytes);

  // Reads the next whole request into `args` (replacing its contents): kCommand with at least one
  // argument, kNeedMore when the buffered bytes hold no whole request yet, kError when the bytes break
  // the protocol (error() says how; the reader stays failed and reads nothing more).
  Outcome next(std::vector<std::string>& args);

  // The Redis error text of the failure, without the "ERR " code ("Protocol error: ...").
  const std::string& error() const { return error_; }

  // Bytes received and not yet consumed by a whole request.
  std::size_t buffered_bytes() const { return buffer_.size() - consumed_; }

  // Arguments a multibulk header may make the reader reserve room for before they arrive.
  static constexpr std::size_t kReservedArguments = 1024;

 private:
  Outcome read_inline(std::vector<std::string>& args);
  Outcome read_multibulk(std::vector<std::string>& args);
  Outcome read_bulk_header();
  // Finds the end of a line starting at `start` that may hold at most max_inline_bytes bytes: its
  // position, npos when more bytes are needed, or sets `too_long`.
  std::size_t find_line_end(std::size_t start, char terminator, bool& too_long);
  Outcome fail(std::string message);
  void compact();

  RequestLimits limits_;
  bool authenticated_ = false;
  std::string buffer_;
  std::size_t consumed_ = 0;  // Bytes of buffer_ that belong to requests already returned.
  std::string error_;
  bool failed_ = false;
  // How far the line starting at line_start_ was already searched for its terminator.
  std::size_t line_start_ = 0;
  std::size_t line_searched_ = 0;

  // A multibulk request in progress: its header and every whole argument so far are consumed (copied
  // into pending_), so the buffer never holds an argument twice for long.
  bool in_multibulk_ = false;
  std::size_t arguments_left_ = 0;
  std::int64_t bulk_length_ = -1;     // Of the argument being read; -1 before its header.
  std::size_t request_bytes_ = 0;     // Counted against max_request_bytes.
  std::vector<std::string> pending_;  // Arguments read so far.
};

}  // namespace cairn::resp
