// Retiring replicas: the retirement table, its digest, and the writes a retired replica set aside
// (src/codec/codec.h).
#include "src/codec/parts.h"

#include <xxhash.h>

#include <vector>

namespace cairn::codec {

using namespace detail;

std::uint64_t retirement_digest(const std::vector<RetiredReplica>& table) {
  std::string bytes;
  bytes.reserve(table.size() * 16);
  const auto append = [&](std::uint64_t value) {
    for (int i = 0; i < 8; ++i, value >>= 8) bytes.push_back(static_cast<char>(value & 0xFF));
  };
  for (const RetiredReplica& retired : table) {
    append(retired.replica.value);
    append(retired.through);
  }
  return XXH3_64bits(bytes.data(), bytes.size());
}

std::string encode_retirements(const std::vector<RetiredReplica>& table) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::RetirementTable>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::RETIREMENT_TABLE);
  auto list = root.initRetired(static_cast<unsigned>(table.size()));
  for (unsigned i = 0; i < table.size(); ++i) {
    list[i].setReplica(table[i].replica.value);
    list[i].setThrough(table[i].through);
  }
  return to_bytes(message);
}

Result<std::vector<RetiredReplica>> decode_retirements(std::string_view bytes) {
  return decode_message<schema::RetirementTable>(
      bytes, "retirement table",
      [](schema::RetirementTable::Reader root) -> Result<std::vector<RetiredReplica>> {
        if (auto header = check_header(root, schema::MessageType::RETIREMENT_TABLE); !header)
          return forward(header);
        const auto list = root.getRetired();
        if (auto length = check_length(list, "a retirement table"); !length) return forward(length);
        std::vector<RetiredReplica> table;
        table.reserve(list.size());
        for (const auto element : list) {
          const RetiredReplica retired{ReplicaId{element.getReplica()}, element.getThrough()};
          if (retired.replica.value == 0) return corrupt("a retirement table names replica 0");
          if (!table.empty() && table.back().replica >= retired.replica) {
            return corrupt(cat("a retirement table is not ascending by replica at replica ",
                               retired.replica.value));
          }
          table.push_back(retired);
        }
        return table;
      });
}

namespace {

// read_retired_writes' steps, one per list of the message; each appends to `writes`.

Status read_retired_registers(schema::RetiredWrites::Reader root, RetiredWrites& writes) {
  const auto registers = root.getRegisters();
  if (auto length = check_length(registers, "retired register writes"); !length) return forward(length);
  for (const auto element : registers) {
    auto dot = read_dot(element.getDot(), "a retired register write's dot");
    if (!dot) return forward(dot);
    const auto timestamp = element.getTimestamp();
    writes.registers.push_back(RetiredRegisterWrite{as_string(element.getKey()), as_string(element.getValue()),
                                                    crdt::HlcTimestamp{timestamp.getWallMs(), timestamp.getLogical()},
                                                    *dot});
  }
  return ok();
}

Status read_retired_members(schema::RetiredWrites::Reader root, RetiredWrites& writes) {
  const auto members = root.getMembers();
  if (auto length = check_length(members, "retired set adds"); !length) return forward(length);
  for (const auto element : members) {
    writes.members.push_back(RetiredMemberAdd{as_string(element.getKey()), as_string(element.getMember())});
  }
  return ok();
}

Status read_retired_counters(schema::RetiredWrites::Reader root, RetiredWrites& writes) {
  const auto counters = root.getCounters();
  if (auto length = check_length(counters, "retired counter totals"); !length) return forward(length);
  for (const auto element : counters) {
    auto chain = read_dot(element.getChain(), "retired counter totals' chain");
    if (!chain) return forward(chain);
    writes.counters.push_back(RetiredCounterTotals{as_string(element.getKey()), *chain, element.getIncrements(),
                                                   element.getDecrements(), element.getDeletedIncrements(),
                                                   element.getDeletedDecrements()});
  }
  return ok();
}

Status read_retired_removals(schema::RetiredWrites::Reader root, RetiredWrites& writes) {
  const auto removals = root.getRemovals();
  if (auto length = check_length(removals, "retired removals"); !length) return forward(length);
  for (const auto element : removals) {
    RetiredRemoval removal;
    const auto keys = element.getRecords();
    if (auto length = check_length(keys, "a retired removal's records"); !length) return forward(length);
    for (const auto key : keys) {
      auto record_key = read_key(key);
      if (!record_key) return forward(record_key);
      removal.records.push_back(std::move(*record_key));
    }
    auto context = read_context(element.getContext());
    if (!context) return forward(context);
    removal.context = std::move(*context);
    writes.removals.push_back(std::move(removal));
  }
  return ok();
}

Status read_retired_resets(schema::RetiredWrites::Reader root, RetiredWrites& writes) {
  const auto resets = root.getResets();
  if (auto length = check_length(resets, "retired counter resets"); !length) return forward(length);
  for (const auto element : resets) {
    auto chain = read_dot(element.getChain(), "a retired counter reset's chain");
    if (!chain) return forward(chain);
    auto observed = read_dot(element.getObserved(), "a retired counter reset's observed contribution");
    if (!observed) return forward(observed);
    crdt::CounterEntry reset;
    reset.kind = crdt::CounterEntry::Kind::kReset;
    reset.contributor = crdt::ReplicaId{element.getContributor()};
    reset.chain = *chain;
    reset.increments = element.getIncrements();
    reset.decrements = element.getDecrements();
    reset.observed = *observed;
    writes.resets.push_back(RetiredCounterReset{as_string(element.getKey()), reset});
  }
  return ok();
}

Result<RetiredWrites> read_retired_writes(schema::RetiredWrites::Reader root) {
  if (auto header = check_header(root, schema::MessageType::RETIRED_WRITES); !header) return forward(header);
  RetiredWrites writes;
  writes.old_replica = ReplicaId{root.getOldReplica()};
  if (writes.old_replica.value == 0) return corrupt("retired writes name replica 0 as the retired one");
  writes.through = root.getThrough();
  writes.old_replica_kept = root.getOldReplicaKept();
  for (auto read : {read_retired_registers, read_retired_members, read_retired_counters, read_retired_removals,
                    read_retired_resets}) {
    if (auto done = read(root, writes); !done) return forward(done);
  }
  return writes;
}

}  // namespace

std::string encode_retired_writes(const RetiredWrites& writes) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::RetiredWrites>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::RETIRED_WRITES);
  root.setOldReplica(writes.old_replica.value);
  root.setThrough(writes.through);
  root.setOldReplicaKept(writes.old_replica_kept);
  auto registers = root.initRegisters(static_cast<unsigned>(writes.registers.size()));
  for (unsigned i = 0; i < writes.registers.size(); ++i) {
    const RetiredRegisterWrite& write = writes.registers[i];
    registers[i].setKey(as_data(write.key));
    registers[i].setValue(as_data(write.value));
    auto timestamp = registers[i].initTimestamp();
    timestamp.setWallMs(write.timestamp.wall_ms);
    timestamp.setLogical(write.timestamp.logical);
    write_dot(registers[i].initDot(), write.dot);
  }
  auto members = root.initMembers(static_cast<unsigned>(writes.members.size()));
  for (unsigned i = 0; i < writes.members.size(); ++i) {
    members[i].setKey(as_data(writes.members[i].key));
    members[i].setMember(as_data(writes.members[i].member));
  }
  auto counters = root.initCounters(static_cast<unsigned>(writes.counters.size()));
  for (unsigned i = 0; i < writes.counters.size(); ++i) {
    const RetiredCounterTotals& totals = writes.counters[i];
    counters[i].setKey(as_data(totals.key));
    write_dot(counters[i].initChain(), totals.chain);
    counters[i].setIncrements(totals.increments);
    counters[i].setDecrements(totals.decrements);
    counters[i].setDeletedIncrements(totals.deleted_increments);
    counters[i].setDeletedDecrements(totals.deleted_decrements);
  }
  auto removals = root.initRemovals(static_cast<unsigned>(writes.removals.size()));
  for (unsigned i = 0; i < writes.removals.size(); ++i) {
    const RetiredRemoval& removal = writes.removals[i];
    auto keys = removals[i].initRecords(static_cast<unsigned>(removal.records.size()));
    for (unsigned j = 0; j < removal.records.size(); ++j) write_key(keys[j], removal.records[j]);
    write_context(removals[i].initContext(), removal.context);
  }
  auto resets = root.initResets(static_cast<unsigned>(writes.resets.size()));
  for (unsigned i = 0; i < writes.resets.size(); ++i) {
    const crdt::CounterEntry& reset = writes.resets[i].reset;
    resets[i].setKey(as_data(writes.resets[i].key));
    resets[i].setContributor(reset.contributor.value);
    write_dot(resets[i].initChain(), reset.chain);
    resets[i].setIncrements(reset.increments);
    resets[i].setDecrements(reset.decrements);
    write_dot(resets[i].initObserved(), reset.observed);
  }
  return to_bytes(message);
}

Result<RetiredWrites> decode_retired_writes(std::string_view bytes) {
  return decode_message<schema::RetiredWrites>(bytes, "retired writes", read_retired_writes);
}

}  // namespace cairn::codec
