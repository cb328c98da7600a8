// Fuzzes the CRDT algebra with arbitrary operation histories: the bytes choose, step by step, which
// of three replicas mutates which key of a causal map (register writes with colliding timestamps, set
// adds and removes, counter increments and deletes) and which pending delta is delivered, duplicated or
// dropped. When the bytes run out every replica receives every delta, and all three must be equal and
// read the same values; any difference aborts, which the fuzzer reports as a crash.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "crdt/causal_map.h"
#include "crdt/lww_register.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"

namespace {

using namespace cairn::crdt;

using RegisterMap = CausalMap<std::string, LwwRegister>;
using SetMap = CausalMap<std::string, OrSet>;
using CounterMap = CausalMap<std::string, PnCounter>;

constexpr int kReplicas = 3;

struct Replica {
  ReplicaId id;
  RegisterMap registers;
  SetMap sets;
  CounterMap counters;
};

struct Delta {
  RegisterMap registers;
  SetMap sets;
  CounterMap counters;
};

class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return position_ >= size_; }
  std::uint8_t next() { return done() ? 0 : data_[position_++]; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

void join_into(Replica& replica, const Delta& delta) {
  replica.registers.join(delta.registers);
  replica.sets.join(delta.sets);
  replica.counters.join(delta.counters);
}

Delta mutate(Replica& replica, ByteReader& bytes) {
  const std::uint8_t op = bytes.next();
  const std::string key(1, static_cast<char>('a' + bytes.next() % 3));
  const std::string member(1, static_cast<char>('x' + bytes.next() % 3));
  const ReplicaId id = replica.id;
  Delta delta;
  switch (op % 7) {
    case 0: {
      // Timestamps from a tiny range so that ties between replicas are common.
      const HlcTimestamp timestamp{bytes.next() % 4u, 0};
      delta.registers = replica.registers.update(key, [&](const auto& store, const auto& context) {
        return LwwRegister::write_delta(store, context, id, member, timestamp);
      });
      break;
    }
    case 1: delta.registers = replica.registers.erase(key, id); break;
    case 2:
      delta.sets = replica.sets.update(
          key, [&](const auto& store, const auto& context) { return OrSet::add_delta(store, context, id, member); });
      break;
    case 3:
      delta.sets = replica.sets.update(
          key, [&](const auto& store, const auto& context) { return OrSet::remove_delta(store, context, id, member); });
      break;
    case 4: delta.sets = replica.sets.erase(key, id); break;
    case 5: {
      const std::uint64_t amount = bytes.next() % 5;
      const bool decrement = (op & 0x80) != 0;
      delta.counters = replica.counters.update(key, [&](const auto& store, const auto& context) {
        return PnCounter::add_delta(store, context, id, decrement ? 0 : amount, decrement ? amount : 0);
      });
      break;
    }
    default: delta.counters = replica.counters.erase(key, id); break;
  }
  return delta;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // Long histories add run time, not coverage.
  ByteReader bytes(data, size);
  std::vector<Replica> replicas(kReplicas);
  for (int i = 0; i < kReplicas; ++i) replicas[i].id = ReplicaId{static_cast<std::uint64_t>(i + 1)};
  std::vector<Delta> sent;

  while (!bytes.done()) {
    const std::uint8_t action = bytes.next();
    Replica& replica = replicas[action % kReplicas];
    if ((action & 0x30) == 0 && !sent.empty()) {
      // Deliver (possibly again) one delta sent earlier; never delivering one is the "loss".
      join_into(replica, sent[bytes.next() % sent.size()]);
    } else {
      sent.push_back(mutate(replica, bytes));
    }
  }

  for (Replica& replica : replicas) {
    for (const Delta& delta : sent) join_into(replica, delta);
  }
  for (const Replica& replica : replicas) {
    const Replica& first = replicas.front();
    if (!(replica.registers == first.registers) || !(replica.sets == first.sets) ||
        !(replica.counters == first.counters)) {
      std::abort();  // Replicas that received the same deltas diverged.
    }
    for (const std::string& key : first.counters.value()) {
      const auto* mine = replica.counters.find(key);
      const auto* theirs = first.counters.find(key);
      if (mine == nullptr || theirs == nullptr || PnCounter::value_of(*mine) != PnCounter::value_of(*theirs)) {
        std::abort();
      }
    }
  }
  return 0;
}
