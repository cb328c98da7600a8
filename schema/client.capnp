# The client protocol's payloads (docs/client-protocol.md): a client sends Request messages in
# kClientRequest frames, the peer answers with Response messages in kClientResponse frames. The frame
# header in front of each payload is the shared one (gossip/wire.h); the mapping to C++ types is in
# src/server/protocol.{h,cpp}.
#
# Rules for changing this file:
# - A field number, once used, is never reused or retyped; new fields and new union arms take the next
#   number. A peer that receives a request arm it does not know answers kUnsupported.
# - A change older peers or clients must not misread bumps the frame header's protocol version.
#
# Every field is untrusted input: src/server/protocol.cpp reads it with traversal and nesting limits and
# checks every length (keys, members, values, list sizes) against the store's documented limits.

@0x9ecce10e6a1258ce;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("cairn::schema::client");

# ---- Requests ----

struct KeyValue {
  key @0 :Data;
  value @1 :Data;
}

struct KeyMembers {
  key @0 :Data;
  members @1 :List(Data);
}

struct KeyMember {
  key @0 :Data;
  member @1 :Data;
}

struct KeyAmount {
  key @0 :Data;
  amount @1 :UInt64;
}

struct Request {
  # Chosen by the client; every response frame to this request echoes it.
  id @0 :UInt64;
  op :union {
    put @1 :KeyValue;
    get @2 :Data;          # The key.
    del @3 :Data;
    sadd @4 :KeyMembers;
    srem @5 :KeyMembers;
    sismember @6 :KeyMember;
    smembers @7 :Data;     # Streamed.
    incr @8 :KeyAmount;
    decr @9 :KeyAmount;
    counter @10 :Data;
    kind @11 :Data;
    scan @12 :Data;        # The prefix. Streamed.
    inspect @13 :Data;
    status @14 :Void;
    stats @15 :Void;
    watch @16 :Data;       # The prefix. Streamed until cancelled.
    # Ends the stream or watch of request `cancel` (its last frame then has more = false). Gets no
    # response of its own.
    cancel @17 :UInt64;
    # The client token (docs/security.md). The first request of every connection must be this one;
    # anything before it, or a wrong token, gets error unauthenticated (11) and the connection closes.
    auth @18 :Data;
    # Proposes retiring the peer with this replica id (docs/metadata-gc.md), which must be dead or
    # stopped: answered done once proposed (the decision follows when every reachable peer agrees on
    # its last write), or an error: invalid argument for the answering peer itself or a reachable one,
    # not found for a replica never known there, unsupported by a peer that cannot retire.
    retire @19 :UInt64;
    # A compacted, consistent snapshot of the peer's store (docs/operations.md): streamed as items,
    # each a chunk of the LMDB file's bytes in order, then done. Cancel ends it.
    backup @20 :Void;
    # A watch that resumes (docs/watch.md): every change after `position` under `prefix`, from the
    # peer's change feed, then live changes, each once, in order. Errors: position expired (14) when
    # the feed no longer holds the changes after it, invalid argument for a malformed position.
    watchFrom @21 :WatchFrom;
  }
}

struct WatchFrom {
  prefix @0 :Data;
  position @1 :Data;  # A position token from an earlier event; empty: from the oldest change kept.
}

# ---- Responses ----

# Numbers match cairn::ErrorCode.
struct Error {
  code @0 :UInt8;
  message @1 :Text;
}

enum ValueKind {
  register @0;
  set @1;
  counter @2;
}

struct RegisterValue {
  value @0 :Data;
  concurrent @1 :List(Data);
}

struct Dot {
  replica @0 :UInt64;
  counter @1 :UInt64;
}

struct RegisterVersion {
  dot @0 :Dot;
  hlcWallMs @1 :UInt64;
  hlcLogical @2 :UInt32;
  value @3 :Data;
}

struct CounterPart {
  dot @0 :Dot;
  reset @1 :Bool;
  contributor @2 :UInt64;
  chain @3 :Dot;
  increments @4 :UInt64;
  decrements @5 :UInt64;
  deletedIncrements @6 :UInt64;
  deletedDecrements @7 :UInt64;
  observed @8 :Dot;
}

struct InspectedMember {
  member @0 :Data;
  dots @1 :List(Dot);
}

struct VersionVectorEntry {
  replica @0 :UInt64;
  counter @1 :UInt64;
}

struct KeyInspection {
  key @0 :Data;
  kind @1 :ValueKind;
  kinds @2 :List(ValueKind);
  versions @3 :List(RegisterVersion);
  writingReplica @4 :UInt64;
  counterValue @5 :Int64;
  counterParts @6 :List(CounterPart);
  memberCount @7 :UInt64;
  memberCountCapped @8 :Bool;
  members @9 :List(InspectedMember);
  versionVector @10 :List(VersionVectorEntry);
  dotsOutsideVector @11 :List(Dot);
  counterOutOfRange @12 :Bool;  # counterValue is then the nearest Int64 (the exact value does not fit).
}

struct Member {
  id @0 :UInt64;
  address @1 :Text;
  state @2 :Text;
  incarnation @3 :UInt64;
  lastHeardMsAgo @4 :UInt64;
  neighbour @5 :Bool;
  lagEntries @6 :UInt64;
  ringPositions @7 :List(UInt64);
}

struct NodeStatus {
  replicaId @0 :UInt64;
  gossipPort @1 :UInt16;
  members @2 :List(Member);
  neighbours @3 :List(UInt64);
  ringPositions @4 :List(UInt64);
  framesDropped @5 :UInt64;
  pendingRetirements @6 :List(PendingRetirement);
  address @7 :Text;        # This peer's advertised gossip address, host:port.
  incarnation @8 :UInt64;  # This peer's incarnation.
  seeds @9 :List(Text);           # As configured, "host:port".
  isolated @10 :Bool;             # Seeds or members expected, nobody reachable.
  isolatedMs @11 :UInt64;         # For how long.
  health @12 :Text;               # "ok", "degraded" or "unavailable" (as GET /health).
  healthReasons @13 :List(Text);
}

struct PendingRetirement {
  replica @0 :UInt64;
  proposedMsAgo @1 :UInt64;
  byOperator @2 :Bool;
  waitingFor @3 :List(UInt64);  # Member ids the decision waits for.
}

struct Label {
  name @0 :Text;
  value @1 :Text;
}

struct MetricSample {
  name @0 :Text;
  help @1 :Text;
  gauge @2 :Bool;  # False: a counter.
  labels @3 :List(Label);
  value @4 :Float64;
}

# Numbers match cairn::ChangeOp. A peer from before the change feed sends none (unknown).
enum ChangeOp {
  unknown @0;
  put @1;
  del @2;
  sadd @3;
  srem @4;
  counter @5;
}

struct WatchEvent {
  key @0 :Data;
  kind @1 :ValueKind;
  local @2 :Bool;
  deleted @3 :Bool;
  op @4 :ChangeOp;
  member @5 :Data;     # sadd, srem: the member.
  value @6 :Data;      # put: the register's value now; counter: its value, decimal.
  position @7 :Data;   # This change's position in the peer's change feed: resume after it.
}

struct Response {
  # The id of the request answered; 0 for an error about a frame whose request could not be read.
  id @0 :UInt64;
  # More frames follow for this request (streamed replies: smembers, scan, watch).
  more @1 :Bool;
  body :union {
    error @2 :Error;                    # The request failed; always the last frame for its id.
    done @3 :Void;                      # Success with nothing to return (writes, retire; the end of a stream).
    value @4 :RegisterValue;            # get
    isMember @5 :Bool;                  # sismember
    counter @6 :Int64;                  # counter
    kind @7 :ValueKind;                 # kind
    items @8 :List(Data);               # smembers, scan: one batch of members or keys; backup: chunks.
    inspection @9 :KeyInspection;       # inspect
    status @10 :NodeStatus;             # status
    stats @11 :List(MetricSample);      # stats
    events @12 :List(WatchEvent);       # watch: one batch of changes.
  }
}
