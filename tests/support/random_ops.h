// Random writes of every kind (registers, sets, counters, deletes) over a small key space, so
// histories collide on keys and exercise concurrent writes, removes and deletes.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "cairn/store.h"
#include "src/util/rng.h"

namespace cairn::test {

// One random write to `store`; `tag` makes the written values unique. Fails the test on an error
// other than kWrongType (a key already holding another kind is a legitimate outcome).
inline void random_write(Store& store, Rng& rng, std::uint64_t tag, std::uint64_t key_space = 8) {
  const std::string suffix = std::to_string(rng.below(key_space));
  Status done = ok();
  switch (rng.below(7)) {
    case 0:
      done = store.put("reg/" + suffix, "v" + std::to_string(tag));
      break;
    case 1:
      done = store.sadd("set/" + suffix, {"m" + std::to_string(rng.below(6)), "n" + std::to_string(tag % 3)});
      break;
    case 2:
      done = store.srem("set/" + suffix, {"m" + std::to_string(rng.below(6))});
      break;
    case 3:
      done = store.incr("count/" + suffix, rng.below(10));
      break;
    case 4:
      done = store.decr("count/" + suffix, rng.below(10));
      break;
    case 5:
      done = store.del("count/" + suffix);
      break;
    default:
      done = store.del((rng.below(2) != 0 ? "reg/" : "set/") + suffix);
      break;
  }
  INFO((done ? std::string("ok") : done.error().to_string()));
  REQUIRE((done || done.error().code() == ErrorCode::kWrongType));
}

}  // namespace cairn::test
