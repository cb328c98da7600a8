// The limits of the RESP2 front door: what one request may announce and hold, and how much one reply
// may collect. docs/resp.md lists each with Redis's value beside it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cairn/options.h"

namespace cairn::resp {

// What the request reader accepts. A request past a limit gets Redis's protocol error for it and the
// connection closes after the reply (as Redis does); nothing it announced is allocated beforehand.
struct RequestLimits {
  // An inline command line, and the count line of a multibulk or bulk (Redis's PROTO_INLINE_MAX_SIZE).
  std::size_t max_inline_bytes = 64 * 1024;
  // Arguments of one multibulk request (Redis 6's limit; Redis 7 allows up to INT_MAX).
  std::int64_t max_multibulk_length = 1024 * 1024;
  // One argument: the store's value limit (Redis's proto-max-bulk-len is 512 MB; no cairn value or key
  // can be longer than this, so a longer argument could only be refused later).
  std::int64_t max_bulk_bytes = static_cast<std::int64_t>(kMaxValueBytes);
  // Before AUTH, as Redis does since CVE-2021-32675: at most 10 arguments of at most 16384 bytes.
  std::int64_t max_unauthenticated_multibulk_length = 10;
  std::int64_t max_unauthenticated_bulk_bytes = 16384;
  // All argument bytes of one request together, plus kArgumentOverheadBytes per argument (Redis bounds
  // the same with client-query-buffer-limit, 1 GB, closing the connection silently).
  std::size_t max_request_bytes = std::size_t{64} << 20;
};

// What one argument costs in memory besides its bytes (a std::string and its vector slot); counted
// against max_request_bytes so a million empty arguments are bounded too.
inline constexpr std::size_t kArgumentOverheadBytes = 32;

}  // namespace cairn::resp
