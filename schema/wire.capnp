# The payload of a peer frame: one Envelope (the in-memory types are in gossip/messages.h; the frame
# header in front of the payload, and the mapping, are in gossip/wire.h and gossip/wire.cpp).
#
# Rules for changing this file:
# - A field number, once used, is never reused or retyped; a removed field is renamed `obsoleteX` and
#   kept. New fields take the next number; peers running an older cairn see their defaults.
# - A change older peers must not misread bumps cairn::gossip::kProtocolVersion (in the clear frame
#   header, so a peer refuses such a frame before reading the payload).
# - The payload carries no version or type tag of its own: the frame header's version and frame type
#   (peerMessage) say what it is.
# - Delta-groups travel as the bytes the codec encoded (Data), never re-encoded here.
#
# Every field is untrusted input: gossip/wire.cpp reads it with traversal and nesting limits and checks
# each one (the limits named there and in wire.h) before the envelope reaches the state machines.

@0xc96f5ac2b3bd748c;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("cairn::schema::wire");

# Where a peer listens: its gossip port serves both UDP (membership) and TCP (deltas).
struct Endpoint {
  host @0 :Text;    # A host name or IP address: 1 to 255 bytes, no NUL byte.
  port @1 :UInt16;  # The gossip port; never 0.
}

# SWIM member states; numbers match cairn::gossip::MemberStatus.
enum MemberStatus {
  alive @0;    # Answering probes (or not yet found otherwise).
  suspect @1;  # Missed a direct and the indirect probes; dead after the suspicion timeout.
  dead @2;     # Suspected for the whole suspicion timeout without refuting.
  left @3;     # Announced that it leaves the cluster.
}

# One membership fact, piggybacked on pings and acks.
struct MemberUpdate {
  id @0 :UInt64;            # The member's peer (replica) id.
  endpoint @1 :Endpoint;    # Where the member listens.
  status @2 :MemberStatus;  # What the fact says about the member.
  incarnation @3 :UInt64;   # The member's incarnation the fact is about; higher wins.
  accuser @4 :UInt64;       # For a suspicion: the peer whose probe raised it (0: unknown). Lifeguard
                            # counts distinct accusers as independent confirmations.
}

# "Are you alive?" (SWIM direct probe; also how a peer joins, by pinging a seed).
struct Ping {
  probe @0 :UInt64;                  # Chosen by the sender; echoed in the ack.
  updates @1 :List(MemberUpdate);    # Piggybacked facts; at most kMaxUpdatesPerMessage.
}

# "Yes": the answer to a Ping, sent directly or relayed by the helper of a PingRequest.
struct PingAck {
  probe @0 :UInt64;                  # The probe number of the ping it answers.
  updates @1 :List(MemberUpdate);    # Piggybacked facts; at most kMaxUpdatesPerMessage.
}

# "Ping `target` for me" (SWIM indirect probe).
struct PingRequest {
  probe @0 :UInt64;                  # The original probe number, to be echoed in the relayed ack.
  target @1 :UInt64;                 # The peer id of the member to probe.
  targetEndpoint @2 :Endpoint;       # Where the member to probe listens.
  updates @3 :List(MemberUpdate);    # Piggybacked facts; at most kMaxUpdatesPerMessage.
}

# One entry of the sender's delta log.
struct DeltaLogEntry {
  sequence @0 :UInt64;   # The sender's log sequence number; strictly increasing within a push.
  deltaGroup @1 :Data;   # An encoded codec DeltaGroup, byte for byte as the store produced it.
}

# A batch of the sender's delta log, oldest first (over TCP).
struct DeltaPush {
  entries @0 :List(DeltaLogEntry);  # At most kMaxDeltaPushEntries, sequences strictly increasing.
}

# "I have merged your log up to and including `sequence`" (over TCP).
struct DeltaAck {
  sequence @0 :UInt64;  # The highest sequence of the receiver's peer's log merged here.
}

# Anti-entropy: hash tree hashes of one level (over TCP). See gossip/messages.h.
struct TreeLevel {
  round @0 :UInt64;           # Chosen by the round's initiator; echoed in the reply.
  reply @1 :Bool;             # False: a request; true: the answer to one.
  level @2 :UInt8;            # 1 .. 4 (the leaves).
  parents @3 :List(UInt32);   # Ascending nodes of level - 1; at level 1 exactly [0]. At most kMaxTreeParents.
  hashes @4 :List(UInt64);    # 16 per parent, in order, or none (a request below level 1).
  context @5 :Data;           # Encoded causal context (codec StoredContext); level 1 only.
  # In a reply: the responder does not reconcile now (its newest own dots wait for confirmation,
  # docs/store.md "Identity"); the initiator ends the round and asks again later. No hashes then.
  busy @6 :Bool;
}

# Anti-entropy: the digests of every record in some differing leaf buckets (over TCP).
struct BucketDigest {
  round @0 :UInt64;              # The round it belongs to.
  buckets @1 :List(UInt32);      # Ascending leaf buckets below 65536. At most kMaxExchangeBuckets.
  keyHashes @2 :List(UInt64);    # One per record (at most kMaxDigestRecords)...
  recordHashes @3 :List(UInt64); # ...and what it holds; as many as keyHashes.
}

# Anti-entropy: the records that differ, with the sender's whole causal context (over TCP).
struct BucketDelta {
  round @0 :UInt64;              # The round it belongs to.
  reply @1 :Bool;                # True: the responder's answer to a BucketDigest.
  buckets @2 :List(UInt32);      # Ascending leaf buckets below 65536. At most kMaxExchangeBuckets.
  records @3 :Data;              # An encoded codec DeltaGroup.
  absent @4 :List(UInt64);       # Key hashes of records the sender does not hold (at most kMaxDigestRecords).
  wanted @5 :List(UInt64);       # Key hashes of records the sender asks for (at most kMaxDigestRecords).
}

# Every peer message: who sent it, from which cluster, and the body.
struct VectorEntry {
  replica @0 :UInt64;  # A replica id.
  counter @1 :UInt64;  # Every dot 1..counter of it seen; never 0.
}

struct RetiredReplica {
  replica @0 :UInt64;  # The retired replica's id.
  through @1 :UInt64;  # Its dots 1..through are all it will ever have.
}

struct ContextReport {
  vector @0 :List(VectorEntry);          # Strictly ascending replicas; at most kMaxReportEntries.
  retirements @1 :List(RetiredReplica);  # Strictly ascending replicas; at most kMaxReportEntries.
  gaps @2 :List(VectorEntry);            # Replicas seen past a gap, with the highest such dot; as vector.
  replyWanted @3 :Bool;  # The sender (just started) asks for the receiver's report now, not at its next tick.
}

struct RetiredNotice {
  through @0 :UInt64;  # The retired replica's dots 1..through are the ones the cluster kept.
  replica @1 :UInt64;  # The retired replica; a receiver with another id ignores the notice.
}

struct Envelope {
  clusterId @0 :UInt64;         # cluster_id_of(cluster name); frames of other clusters are dropped.
  sender @1 :UInt64;            # The sender's peer (replica) id.
  senderEndpoint @2 :Endpoint;  # Where the sender listens (its source address may differ).
  # The message itself; a kind this build does not know (from a newer cairn) is refused.
  body :union {
    ping @3 :Ping;                # Membership, over UDP.
    pingAck @4 :PingAck;          # Membership, over UDP.
    pingRequest @5 :PingRequest;  # Membership, over UDP.
    deltaPush @6 :DeltaPush;      # Delta dissemination, over TCP.
    deltaAck @7 :DeltaAck;        # Delta dissemination, over TCP.
    treeLevel @8 :TreeLevel;      # Anti-entropy, over TCP.
    bucketDigest @9 :BucketDigest;  # Anti-entropy, over TCP.
    bucketDelta @10 :BucketDelta;   # Anti-entropy, over TCP.
    contextReport @11 :ContextReport;  # Causal stability, over TCP.
    retiredNotice @12 :RetiredNotice;  # Retirement, over UDP.
  }
  # The sender's partition count (docs/partitions.md): a frame with another one is dropped, and a Ping
  # answered with a PingAck carrying this peer's count so both sides log why. 0: a build from before
  # partitions, accepted (it holds one store-wide context, as every count does at full replication).
  partitionCount @13 :UInt32;
}
