// LmdbStore's replica identity entry points (include/cairn/store.h, identity.h, docs/store.md).
//
// Every change of id runs on the writer thread in one transaction (change_identity), so no write can
// mint under the old id once it is decided, and a crash leaves either the old id or the new one with
// everything it needs (set-aside writes included).
#include <string>
#include <utility>

#include "src/codec/codec.h"
#include "src/store/environment.h"
#include "src/store/identity.h"
#include "src/store/lmdb_store.h"
#include "src/store/retirement.h"
#include "src/store/retirement_writes.h"
#include "src/util/hex_id.h"

namespace cairn::store {
namespace {

// A random id that is neither the current one nor a retired one.
crdt::ReplicaId unused_replica_id(crdt::ReplicaId current, const RetiredMap& retired) {
  for (;;) {
    const crdt::ReplicaId id{random_replica_id()};
    if (id != current && !retired.contains(id)) return id;
  }
}

std::size_t count_writes(const codec::RetiredWrites& writes) {
  return writes.registers.size() + writes.members.size() + writes.counters.size() + writes.resets.size();
}

}  // namespace

void LmdbStore::publish_identity() {
  StoreIdentity identity;
  identity.replica = working_.replica.value;
  identity.unconfirmed_from = working_.meta.unconfirmed_from;
  identity.held_from_sequence = working_.meta.unconfirmed_from != 0 ? working_.meta.unconfirmed_from_sequence : 0;
  for (const crdt::ReplicaId predecessor : working_.meta.predecessors) identity.predecessors.push_back(predecessor.value);
  identity.last_change = working_.last_change;
  const std::uint64_t counter = own_counter();
  std::lock_guard lock(identity_mutex_);
  published_identity_ = std::move(identity);
  published_own_counter_ = counter;
}

StoreIdentity LmdbStore::identity() {
  std::lock_guard lock(identity_mutex_);
  return published_identity_;
}

Status LmdbStore::start_identity_check() {
  if (auto ok_to_write = writable(); !ok_to_write) return ok_to_write;
  return run_write([&](Txn& txn) -> Status {
    // A fresh id has no other copy; dots already unconfirmed stay so from where they started.
    if (working_.id_minted_this_session || working_.meta.unconfirmed_from != 0) return ok();
    codec::StoreMeta meta = working_.meta;
    meta.unconfirmed_from = own_counter() + 1;
    meta.unconfirmed_from_sequence = working_.whole().next_sequence;
    meta.next_delta_sequence = working_.whole().next_sequence;
    if (auto written = txn.write(databases().meta, kMetaIdentityKey, codec::encode_meta(meta)); !written) {
      return written;
    }
    working_.meta = std::move(meta);
    return ok();
  });
}

Status LmdbStore::confirm_identity() {
  if (auto ok_to_write = writable(); !ok_to_write) return ok_to_write;
  if (identity().unconfirmed_from == 0) return ok();
  return run_write([&](Txn& txn) -> Status {
    if (working_.meta.unconfirmed_from == 0) return ok();
    codec::StoreMeta meta = working_.meta;
    meta.unconfirmed_from = 0;
    meta.unconfirmed_from_sequence = 0;
    meta.next_delta_sequence = working_.whole().next_sequence;
    if (auto forgotten = forget_unconfirmed_chains(txn, databases()); !forgotten) return forgotten;
    if (auto written = txn.write(databases().meta, kMetaIdentityKey, codec::encode_meta(meta)); !written) {
      return written;
    }
    working_.meta = std::move(meta);
    return ok();
  });
}

Result<std::optional<IdentityChange>> LmdbStore::observe_own_dots(std::uint64_t highest) {
  return resolve_if_another_copy(crdt::ReplicaId{replica_id()}, highest, /*count_unconfirmed=*/true,
                                 "a peer's context");
}

Result<IdentityChange> LmdbStore::adopt_new_identity() {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  IdentityChange change;
  auto done = run_write([&](Txn& txn) -> Status {
    auto changed = change_identity(txn, IdentityChangeReason::kRequested, "requested (adopt_new_identity)");
    if (!changed) return tl::unexpected(changed.error());
    change = std::move(*changed);
    return ok();
  });
  if (!done) return tl::unexpected(done.error());
  return change;
}

Result<std::optional<IdentityChange>> LmdbStore::resolve_if_another_copy(crdt::ReplicaId replica, std::uint64_t highest,
                                                                         bool count_unconfirmed, std::string_view where) {
  using Outcome = std::optional<IdentityChange>;
  if (highest == 0 || !queue_) return Outcome{};
  {
    std::lock_guard lock(identity_mutex_);
    const std::uint64_t unconfirmed = count_unconfirmed ? published_identity_.unconfirmed_from : 0;
    if (published_identity_.replica != replica.value ||
        !shows_another_copy(highest, published_own_counter_, unconfirmed)) {
      return Outcome{};
    }
  }
  Outcome outcome;
  auto done = run_write([&](Txn& txn) -> Status {
    outcome.reset();  // A batch retried after the map grew runs this again from scratch.
    const std::uint64_t unconfirmed = count_unconfirmed ? working_.meta.unconfirmed_from : 0;
    const std::uint64_t minted = own_counter();
    if (replica != working_.replica || !shows_another_copy(highest, minted, unconfirmed)) return ok();
    std::string detail = std::string(where) + " holds dot " + std::to_string(highest) + " of replica " +
                         hex_id(replica.value) + ", which this copy " +
                         (highest > minted ? "never minted (it minted up to " + std::to_string(minted) + ")"
                                           : "minted after it started and never shipped");
    auto changed = change_identity(txn, IdentityChangeReason::kConflict, std::move(detail));
    if (!changed) return tl::unexpected(changed.error());
    outcome = std::move(*changed);
    return ok();
  });
  if (!done) return tl::unexpected(done.error());
  return outcome;
}

Result<IdentityChange> LmdbStore::change_identity(Txn& txn, IdentityChangeReason reason, std::string detail) {
  const crdt::ReplicaId old_replica = working_.replica;
  const crdt::ReplicaId new_replica = unused_replica_id(working_.replica, working_.retired);
  IdentityChange change{old_replica.value, new_replica.value, reason, false, 0, std::move(detail)};
  // Writes minted while unconfirmed collide with the other copy's under the same dots: set them aside
  // and start empty. Not while an earlier set-aside still waits (it would be overwritten): the store
  // then keeps its data, and those writes may lose to the other copy's (docs/store.md).
  bool set_aside = reason == IdentityChangeReason::kConflict && working_.meta.unconfirmed_from != 0 &&
                   own_counter() >= working_.meta.unconfirmed_from;
  if (set_aside) {
    auto pending = txn.read(databases().meta, kMetaRetiredWritesKey);
    if (!pending) return tl::unexpected(pending.error());
    set_aside = !pending->has_value();
  }
  if (set_aside) {
    auto writes = collect_retired_writes(txn, databases(), old_replica, working_.meta.unconfirmed_from - 1);
    if (!writes) return tl::unexpected(writes.error());
    if (auto measured = measure_unconfirmed_writes(txn, databases(), old_replica, working_.meta.unconfirmed_from_sequence, *writes); !measured) {
      return tl::unexpected(measured.error());
    }
    change.writes_set_aside = count_writes(*writes);
    if (auto cleared = clear_databases_except(txn, {"meta", "peers"}); !cleared) return tl::unexpected(cleared.error());
    const std::vector<codec::RetiredWrites> chunks = split_into_messages(std::move(*writes));
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      if (auto written = txn.write(databases().meta, retired_writes_key(i), codec::encode_retired_writes(chunks[i]));
          !written) {
        return tl::unexpected(written.error());
      }
    }
    change.emptied = true;
  } else if (auto forgotten = forget_unconfirmed_chains(txn, databases()); !forgotten) {
    return tl::unexpected(forgotten.error());
  }
  codec::StoreMeta meta = working_.meta;
  move_to_new_id(meta, new_replica);
  meta.next_delta_sequence = working_.whole().next_sequence;  // An emptied log keeps its sequence increasing.
  if (auto written = txn.write(databases().meta, kMetaIdentityKey, codec::encode_meta(meta)); !written) {
    return tl::unexpected(written.error());
  }
  working_.replica = new_replica;
  working_.meta = std::move(meta);
  working_.id_minted_this_session = true;
  working_.last_change = change;
  if (change.emptied) {
    working_.whole().context = crdt::DotContext{};
    working_.context_dirty = true;  // before_commit persists the empty context in this commit.
  }
  return change;
}

}  // namespace cairn::store
