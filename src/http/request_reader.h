// RequestReader: turns the bytes of one HTTP/1.x connection into requests, with no I/O of its own
// (http-parser does the parsing). The listener feeds it what it reads and answers what comes out; tests
// and the fuzzer feed it bytes directly.
//
// A connection carries requests one after another (keep-alive), possibly sent before the previous
// answer (pipelining). feed() stops at the end of each complete request, so the caller answers them
// in order and may stop reading in between; a byte split anywhere, even inside a header name, makes no
// difference. A stream that breaks the protocol or a limit fails for good: failed() tells the status to
// answer with before closing (400 malformed, 413 body too large, 431 headers too large, 505 not
// HTTP/1.x); the connection cannot be resynchronised. (A request that breaks both a limit and the
// syntax may get either status, depending on where its bytes were split.)
//
// Bodies. /health and /metrics take none: a body up to RequestLimits::max_body_bytes is read and
// discarded; a larger one (by Content-Length, before it arrives, or by counting a chunked one) fails
// with 413.
//
// Threads: none of its own; one reader belongs to one connection.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "src/http/message.h"

namespace cairn::http {

// Bytes of the request target plus every header name and value of one request.
inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
inline constexpr std::size_t kMaxHeaderCount = 64;
// Bodies are discarded; anything larger than this is refused with 413.
inline constexpr std::size_t kMaxBodyBytes = 1024;

struct RequestLimits {
  std::size_t max_header_bytes = kMaxHeaderBytes;
  std::size_t max_header_count = kMaxHeaderCount;
  std::size_t max_body_bytes = kMaxBodyBytes;
};

class RequestReader {
 public:
  explicit RequestReader(RequestLimits limits = {});
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Parses `bytes` (the next bytes of the stream) up to the end of the next complete request, and
  // returns how many it consumed: all of them unless a request completed before their end, in which
  // case the rest belongs to the next request: take_request(), then feed the rest again. Consumes
  // nothing while a completed request waits to be taken, or once failed().
  std::size_t feed(std::string_view bytes);

  // The request the last feed() completed, or nullopt. Taking it lets parsing continue.
  std::optional<HttpRequest> take_request();

  // True once the stream broke the protocol or a limit; nothing more comes from it.
  bool failed() const;
  // When failed(): the status to answer with (400, 413, 431 or 505) and what was wrong, for logs.
  int error_status() const;
  const std::string& error() const;

  // True while part of a request has been read but not all of it (an EOF now cuts a request short).
  bool in_request() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http
