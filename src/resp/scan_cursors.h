// ScanCursors: where SCAN and SSCAN iterations stand between calls.
//
// Redis's cursors are integers a client hands back; cairn's store iterates in key order with a Cursor
// object (include/cairn/store.h), which holds no read transaction between calls and may be kept as long
// as needed. So each reply's cursor number names a saved store Cursor here, in a registry shared by every
// RESP connection of a peer (a client's connection pool may continue an iteration on another
// connection). The registry is bounded: past `capacity` the position saved longest ago is dropped and
// continuing it answers an error (the client starts again from 0). A cursor number may be continued
// once: each reply names a new one.
//
// Threads: every method is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cairn/store.h"
#include "src/util/rng.h"

namespace cairn::resp {

// An iteration in progress.
struct ScanPosition {
  std::unique_ptr<Cursor> cursor;
  // The item after the last one replied, read ahead to know whether the iteration is over.
  std::optional<std::string> lookahead;
  // SSCAN: the set iterated (an SSCAN cursor is refused for another key, and for SCAN).
  bool over_members = false;
  std::string set_key;
};

class ScanCursors {
 public:
  // `seed` draws the cursor numbers (unpredictable to other clients, reproducible in tests).
  ScanCursors(std::size_t capacity, std::uint64_t seed);

  // Removes and returns the position saved as `number`; nullopt when there is none (never given,
  // continued already, or dropped for room).
  std::optional<ScanPosition> take(std::uint64_t number);

  // Saves `position` and returns its number: non-zero (0 means "done" to a client) and below 2^53 (a
  // JavaScript client reads it exactly).
  std::uint64_t save(ScanPosition position);

  std::size_t size() const;

 private:
  struct Saved {
    ScanPosition position;
    std::list<std::uint64_t>::iterator age;
  };

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  Rng rng_;
  std::map<std::uint64_t, Saved> saved_;
  std::list<std::uint64_t> oldest_first_;
};

}  // namespace cairn::resp
