# The stored and shipped records of a cairn store: value records, the store-wide causal context, the
# store's identity, and delta-groups (in the delta log and on the wire).
#
# Rules for changing this file:
# - A field number, once used, is never reused or retyped; a removed field is renamed `obsoleteX` and
#   kept. New fields take the next number; readers of an older format see their defaults.
# - Every top-level message (ValueRecord, StoredContext, StoreMeta, DeltaGroup, PeerRecord,
#   RetirementTable, RetiredWrites) starts with
#   formatVersion and a type tag. A change older readers must not misread bumps
#   cairn::codec::kFormatVersion; readers refuse versions newer than their own.
# - Version 0 is never written: a zeroed or empty message reads as version 0 and is refused.
# - Keys, members and values are opaque bytes (Data), never Text: they need not be UTF-8.
#
# The C++ mapping lives in src/codec/codec.cpp; records.h holds the in-memory types.

@0xfbe57e1f6589d5b9;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("cairn::schema");

# The type tag of a top-level message, so bytes of one kind are never read as another.
enum MessageType {
  unknown @0;       # Never written: what an empty or zeroed message reads as.
  valueRecord @1;   # A ValueRecord: the dot store of one register, set member or counter.
  storedContext @2; # A StoredContext: the store-wide causal context.
  storeMeta @3;     # A StoreMeta: the store's identity and counters.
  deltaGroup @4;    # A DeltaGroup: record fragments plus a context fragment.
  peerRecord @5;    # A PeerRecord: one member of the cluster as this peer last knew it.
  retirementTable @6; # A RetirementTable: the replicas retired by a replicated decision.
  retiredWrites @7;   # A RetiredWrites: a retired replica's own writes set aside for re-issue.
  changeRecord @8;    # A ChangeRecord: one entry of the change log (docs/watch.md).
  changeLogHeader @9; # A ChangeLogHeader: which log the change log's sequences belong to.
}

# The kind of value a record holds. Numbers match cairn::codec::ValueType and the type byte of
# record keys.
enum ValueType {
  unknown @0;    # Never written.
  register @1;   # An LWW-register: one record per key.
  setMember @2;  # One member of an OR-set: one record per (key, member).
  counter @3;    # A PN-counter: one record per key.
}

# The name of one event: the n-th event minted by a replica.
struct Dot {
  replica @0 :UInt64;  # The minting replica's id.
  counter @1 :UInt64;  # 1-based sequence number; 0 never names an event and is refused.
}

# One entry of a version vector: every event of `replica` numbered 1..counter.
struct VersionVectorEntry {
  replica @0 :UInt64;  # The replica the entry is about.
  counter @1 :UInt64;  # Events included, never 0 (a replica with none has no entry).
}

# A causal context: a version vector plus the dots seen out of order.
struct DotContext {
  vector @0 :List(VersionVectorEntry);  # Ascending by replica, one entry per replica.
  cloud @1 :List(Dot);                  # Ascending; none covered by the vector or extending it by one.
}

# A hybrid logical clock timestamp.
struct Hlc {
  wallMs @0 :UInt64;   # Wall-clock milliseconds since the Unix epoch.
  logical @1 :UInt32;  # Tie-breaking counter among timestamps with the same wallMs.
}

# One entry of an LWW-register's dot store.
struct LwwEntry {
  dot @0 :Dot;        # The dot the write minted; unique within the register.
  value @1 :Data;     # The written value, opaque bytes.
  timestamp @2 :Hlc;  # When it was written; larger (timestamp, replica) wins.
}

# One entry of a PN-counter's dot store (see crdt/pn_counter.h for the meaning of each field).
struct CounterEntry {
  enum Kind {
    contribution @0;  # A replica's running totals.
    reset @1;         # The totals of a contributor's chain that a delete observed.
  }

  dot @0 :Dot;                  # The dot that minted this entry; unique within the counter.
  kind @1 :Kind;                # What the entry records.
  contributor @2 :UInt64;       # The replica whose totals this entry is about.
  chain @3 :Dot;                # The first dot of the contributor's chain of entries.
  increments @4 :UInt64;        # Running (contribution) or observed (reset) increment total.
  decrements @5 :UInt64;        # Running (contribution) or observed (reset) decrement total.
  deletedIncrements @6 :UInt64; # Contribution: increments of the chain deletes had observed.
  deletedDecrements @7 :UInt64; # Contribution: decrements of the chain deletes had observed.
  observed @8 :Dot;             # Reset: the contribution the delete observed; unset otherwise.
}

# The dot store of an LWW-register.
struct RegisterValue {
  entries @0 :List(LwwEntry);  # Ascending by dot, each dot once.
}

# The dot store of one OR-set member: the dots of the adds no remove has observed.
struct SetMemberValue {
  dots @0 :List(Dot);  # Ascending, each dot once.
}

# The dot store of a PN-counter.
struct CounterValue {
  entries @0 :List(CounterEntry);  # Ascending by dot, each dot once.
}

# A value record: the value stored under one record key (LMDB main database).
struct ValueRecord {
  formatVersion @0 :UInt16;  # The codec format version that wrote it; never 0.
  type @1 :MessageType;      # Always valueRecord.
  # The dot store; the discriminant is the value's type tag and matches the record key's type.
  union {
    register @2 :RegisterValue;    # For ValueType.register.
    setMember @3 :SetMemberValue;  # For ValueType.setMember.
    counter @4 :CounterValue;      # For ValueType.counter.
  }
}

# The store-wide causal context (meta database).
struct StoredContext {
  formatVersion @0 :UInt16;  # The codec format version that wrote it; never 0.
  type @1 :MessageType;      # Always storedContext.
  context @2 :DotContext;    # Every dot the store has seen (less retired replicas, see below).
  # True when `context` leaves out every replica of a retirement table (RetirementTable) whose digest
  # is `retirementDigest`: the writer had seen each retired replica's dots 1..through. A reader whose
  # own table has that digest adds them back; any other reader (or one of an older format, which
  # ignores these fields) takes them as unseen, which only makes it more cautious.
  omitsRetired @3 :Bool;
  retirementDigest @4 :UInt64;  # xxh3-64 of the omitted table (see src/codec/codec.h); 0 unless omitsRetired.
}

# The persistent identity and state of a store (meta database).
struct StoreMeta {
  formatVersion @0 :UInt16;        # The codec format version that wrote this message; never 0.
  type @1 :MessageType;            # Always storeMeta.
  storeFormatVersion @2 :UInt32;   # The store's own on-disk format version (the store checks it).
  replica @3 :UInt64;              # This store's replica id.
  nextDeltaSequence @4 :UInt64;    # The sequence number the next delta-group gets.
  # Where the store's identity was minted: a writable open that finds the store somewhere else (a
  # copied, restored or moved directory) takes a new replica id. Unset in stores written before it
  # existed: such a store records it on its next writable open and keeps its id.
  fingerprint @5 :StoreFingerprint;
  predecessors @6 :List(UInt64);   # Replica ids the store's data was written under before, oldest first.
  # Own dots from this counter on were minted after the store was opened and before any peer
  # confirmed that no other copy of the identity had minted them (0: every own dot is confirmed).
  unconfirmedFrom @7 :UInt64;
  unconfirmedFromSequence @8 :UInt64;  # The delta log sequence from which local deltas wait for that.
  # The cluster's partition count (a power of two, docs/partitions.md), fixed when the store was
  # created. 0 (unset) in a store of store format 1, written before partitions existed.
  partitionCount @9 :UInt32;
}

# Where a store's identity lives: the same data file on the same filesystem of the same machine. Never
# the path: a directory moved on its filesystem keeps its identity (the original is gone).
struct StoreFingerprint {
  inode @0 :UInt64;       # The inode number of the data file (data.mdb).
  filesystem @1 :UInt64;  # The filesystem's id (statfs f_fsid).
  machine @2 :UInt64;     # xxh3-64 of the machine id (/etc/machine-id); 0 when there is none.
}

# One row of the `peers` database: a cluster member as this peer last knew it, so a restarted peer
# remembers its cluster.
struct PeerRecord {
  formatVersion @0 :UInt16;  # The codec format version that wrote this message; never 0.
  type @1 :MessageType;      # Always peerRecord.
  id @2 :UInt64;             # The member's replica id; never 0.
  host @3 :Text;             # Where it listens for gossip (UDP and TCP).
  port @4 :UInt16;
  status @5 :UInt8;          # gossip::MemberStatus: 0 alive, 1 suspect, 2 dead, 3 left.
  incarnation @6 :UInt64;    # Its SWIM incarnation number.
}

# Names one record (inside a delta-group; LMDB keys use an order-preserving byte encoding instead).
struct RecordKey {
  key @0 :Data;         # The user's key.
  type @1 :ValueType;   # The type of value stored under it.
  member @2 :Data;      # The set member for setMember records; empty otherwise.
}

# The fragment of one record's dot store that a delta-group carries.
struct RecordFragment {
  key @0 :RecordKey;  # The record it belongs to.
  # The dot store fragment; may be empty (a fragment that only removes dots). The discriminant
  # matches key.type.
  union {
    register @1 :RegisterValue;    # For ValueType.register.
    setMember @2 :SetMemberValue;  # For ValueType.setMember.
    counter @3 :CounterValue;      # For ValueType.counter.
  }
}

# A delta or a join of deltas (delta log and wire).
struct DeltaGroup {
  formatVersion @0 :UInt16;          # The codec format version that wrote it; never 0.
  type @1 :MessageType;              # Always deltaGroup.
  origin @2 :UInt64;                 # The neighbour it came from; 0 for a local mutation.
  records @3 :List(RecordFragment);  # Every record it touches, also those it only removes dots from.
  context @4 :DotContext;            # The dots it saw and minted.
}

# ---- Retiring replicas (docs/metadata-gc.md). ----

# One replica retired by a replicated decision: its dots 1..through are all there will ever be.
struct RetiredReplica {
  replica @0 :UInt64;  # Never 0.
  through @1 :UInt64;  # Its last accepted counter; may be 0 (it minted nothing anyone kept).
}

# Every retirement a store knows (meta database, key "retirements").
struct RetirementTable {
  formatVersion @0 :UInt16;              # The codec format version that wrote it; never 0.
  type @1 :MessageType;                  # Always retirementTable.
  retired @2 :List(RetiredReplica);      # Ascending by replica, each replica once.
}

# A register write of the retired replica, beyond its retirement.
struct RetiredRegisterWrite {
  key @0 :Data;
  value @1 :Data;
  timestamp @2 :Hlc;
  dot @3 :Dot;  # Its dot under the old replica id.
}

# A set add of the retired replica, beyond its retirement.
struct RetiredMemberAdd {
  key @0 :Data;
  member @1 :Data;
}

# The running totals of one of the retired replica's counter chains, beyond its retirement.
struct RetiredCounterTotals {
  key @0 :Data;
  chain @1 :Dot;         # The chain's first dot (old replica id).
  increments @2 :UInt64;
  decrements @3 :UInt64;
  deletedIncrements @4 :UInt64;  # Of those, what deletes it had seen removed (its absorbed offset).
  deletedDecrements @5 :UInt64;
}

# A reset entry an offline counter delete of the retired replica minted beyond its retirement: the
# delete's removals travel as a RetiredRemoval, but what it cancels of contributions it had not seen
# (concurrent increments) needs the reset itself.
struct RetiredCounterReset {
  key @0 :Data;
  contributor @1 :UInt64;  # The replica whose totals the delete observed.
  chain @2 :Dot;           # That contributor's chain.
  increments @3 :UInt64;   # The totals the delete observed.
  decrements @4 :UInt64;
  observed @5 :Dot;        # The contribution the delete observed.
}

# What a logged local delta of the retired replica removed: the records it named and the dots it had
# observed there (its own minted dots and dots beyond the retirement left out).
struct RetiredRemoval {
  records @0 :List(RecordKey);
  context @1 :DotContext;
}

# The writes a retired replica set aside when it reincarnated (meta database, key "retired-writes"),
# re-issued under its new id once anti-entropy has refilled it.
struct RetiredWrites {
  formatVersion @0 :UInt16;                    # The codec format version that wrote it; never 0.
  type @1 :MessageType;                        # Always retiredWrites.
  oldReplica @2 :UInt64;                       # The retired id; never 0.
  through @3 :UInt64;                          # It was retired with its dots 1..through.
  registers @4 :List(RetiredRegisterWrite);
  members @5 :List(RetiredMemberAdd);
  counters @6 :List(RetiredCounterTotals);
  removals @7 :List(RetiredRemoval);
  resets @8 :List(RetiredCounterReset);
  # True when the old id was not retired but abandoned because another copy of it minted the same
  # dots (docs/store.md, "Identity"): `through` is the last dot it had confirmed, `counters` hold the
  # increments and decrements minted since (re-issued as they are, not compared with what the refill
  # brings), and resets about its own chains name only what had been confirmed.
  oldReplicaKept @9 :Bool;
}

# What one change did, as the change log (src/store/change_log.h) and watchers report it. Numbers match
# cairn::ChangeOp.
enum ChangeOp {
  unknown @0;   # Never written.
  put @1;       # A register now holds `value` (its winning version).
  del @2;       # The key's register or counter is gone (a del, local or merged).
  sadd @3;      # Set member `member` is now present.
  srem @4;      # Set member `member` is now absent.
  counter @5;   # A counter now reads `value` (decimal text; an incr, decr or merge).
}

# One entry of the change log (database "changes", big-endian sequence -> this record): a change to one
# register, counter or set member, with what the key held right after it.
struct ChangeRecord {
  formatVersion @0 :UInt16;
  type @1 :MessageType;    # Always changeRecord.
  key @2 :Data;
  kind @3 :ValueType;
  op @4 :ChangeOp;
  member @5 :Data;         # sadd, srem: the member.
  value @6 :Data;          # put: the winning value; counter: its value as decimal text.
  deleted @7 :Bool;        # The key held no value of any kind right after the change.
  local @8 :Bool;          # Written here; false when merged from a peer.
  timeMs @9 :UInt64;       # Wall-clock time of the commit (ms since the epoch): for age retention.
}

# The change log's header (database "changes", sequence 0): the log's random id, which every position
# token names, and the replica id the store had when the log was started (a store opened under another
# id is a copy or restore: its log starts over with a new id, so old tokens are refused, not misread).
struct ChangeLogHeader {
  formatVersion @0 :UInt16;
  type @1 :MessageType;    # Always changeLogHeader.
  logId @2 :UInt64;        # Never 0.
  replica @3 :UInt64;
}
