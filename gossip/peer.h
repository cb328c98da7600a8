// A gossip peer as one sans-I/O machine: membership (SWIM over datagrams), the ring that picks gossip
// neighbours from the live members, and delta dissemination (over streams), joined around a store.
//
// The driver feeds it received frames and clock ticks and sends the frames it returns; it owns no
// sockets and reads no clock. Frames are sealed and opened here (gossip/sealing.h), so every driver
// (the libuv transport, the simulator) carries only sealed frames: a frame that is unsealed, sealed
// under another key, tampered with or replayed is counted and dropped before its payload is decoded;
// one that is oversized, undecodable, of another protocol version or from another cluster is counted
// and dropped before any other work.
//
// Two lanes. Failure detection must not wait behind the store: a 16 MiB merge or a slow fsync would
// otherwise hold up the answer to a ping until neighbours declare this peer dead. So the work is split
// in two lanes that a driver may run on two threads at once (gossip/peer_lanes.cpp):
//   - the membership lane: membership_tick() and on_membership_message(), SWIM's pings, acks and
//     indirect probes. It never touches the store; membership has its own lock.
//   - the data lane: data_tick() and on_envelope(), everything else (dissemination, anti-entropy,
//     stability, persisting the member table), which calls the store and may wait for the disk.
// open_frame() (sealing and decoding) may run on either. Every other method, the accessors included,
// belongs to the data lane. tick() and on_frame() run both lanes' work on the calling thread, as the
// simulator does, so one thread may also drive everything.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cairn/defaults.h"
#include "src/store/replica.h"
#include "gossip/anti_entropy.h"
#include "gossip/dissemination.h"
#include "gossip/membership.h"
#include "gossip/outgoing.h"
#include "gossip/ring.h"
#include "gossip/sealing.h"
#include "gossip/stability.h"
#include "gossip/wire.h"

namespace cairn::gossip {

// How frames are protected. Sealed (the default) needs at least one cluster key: frames are sealed
// with the first and opened with any (rotation: docs/security.md), unsealed frames are refused.
// Insecure sends unsealed frames and accepts unsealed ones (and sealed ones under `cluster_keys`, if
// any); anyone who can reach the port can then join, read and write. A Peer made with neither keys
// nor `insecure` is a bug (asserted); in a release build it then refuses every frame and sends none.
struct PeerSecurity {
  std::vector<ClusterKey> cluster_keys;
  bool insecure = false;
};

struct PeerOptions {
  std::string cluster_name = "cairn";
  std::uint64_t gossip_interval_ms = kDefaultGossipIntervalMs;  // How often new deltas are pushed to neighbours.
  // A received frame announcing a larger payload is dropped as kOversized (at most kMaxFramePayloadBytes).
  std::size_t max_frame_payload_bytes = kMaxFramePayloadBytes;
  MembershipOptions membership;
  RingOptions ring;
  DisseminationOptions dissemination;
  AntiEntropyOptions anti_entropy;
  StabilityOptions stability;
  PeerSecurity security;
};

struct PeerStats {
  std::uint64_t frames_received = 0, bytes_received = 0, frames_sent = 0, bytes_sent = 0;
  std::uint64_t frames_from_other_clusters = 0;
  // Frames from peers with another partition count (docs/partitions.md): dropped, never merged.
  std::uint64_t frames_other_partition_count = 0;
  std::uint64_t store_errors = 0;
  std::uint64_t frames_unsendable = 0;  // Outgoing frames too large to seal within the frame limit.
  std::array<std::uint64_t, kFrameErrorCount> frames_dropped{};  // Indexed by FrameError.
  std::uint64_t frames_dropped_total() const {
    std::uint64_t total = 0;
    for (auto count : frames_dropped) total += count;
    return total;
  }
};

// A frame to send.
struct OutgoingFrame {
  Endpoint to;
  Channel channel = Channel::kDatagram;
  std::string bytes;
};

// Why a received frame was dropped, for the driver's log (PeerStats counts it too).
struct FrameDrop {
  // As the cairn_frames_dropped_total label: to_string(FrameError), "other_cluster" or
  // "other_partition_count".
  std::string reason;
  // What exactly: key ids, protocol versions, or for another cluster's frame its sender and cluster.
  std::string detail;
};

// A received frame after open_frame(): its envelope, or why it was dropped.
struct OpenedFrame {
  std::optional<Envelope> envelope;
  std::optional<FrameDrop> dropped;
  // What to send although the frame was dropped: the PingAck that tells a peer with another partition
  // count why it is refused (open_frame). The driver sends these like any other frames.
  std::vector<OutgoingFrame> replies;
};

// Which lane a call runs on (see the top of this file).
enum class Lane : std::uint8_t { kMembership, kData };

class Peer {
 public:
  // `store` is borrowed and must outlive the peer. `random_seed` drives membership's random choices.
  Peer(Endpoint self_endpoint, store::Replica& store, std::vector<Endpoint> seeds, PeerOptions options,
       std::uint64_t random_seed);

  // Joins through the seeds (and members remembered from an earlier run). Data lane, before the
  // membership lane starts.
  std::vector<OutgoingFrame> start(std::uint64_t now_ms);
  // Drives all timers (membership_tick() then data_tick()); call every few tens of milliseconds.
  std::vector<OutgoingFrame> tick(std::uint64_t now_ms);
  // Handles one received frame (a whole datagram, or one frame read from a stream): open_frame() then
  // on_envelope(), on the calling thread.
  std::vector<OutgoingFrame> on_frame(std::string_view frame, std::uint64_t now_ms);
  // Announces a graceful leave.
  std::vector<OutgoingFrame> leave(std::uint64_t now_ms);

  // Either lane: opens (when sealed) and decodes one received frame, and checks its cluster and its
  // partition count. A refused frame comes back with `dropped` set, counted in the stats of `lane`. A
  // Ping from a peer with another partition count (a join or a probe) is answered with a PingAck
  // carrying this peer's count, in `replies`, which that peer drops and logs in turn: both sides say
  // why, and since an ack is never answered the two never loop.
  OpenedFrame open_frame(std::string_view frame, Lane lane);

  // Membership lane: the failure detector's timers (probes, ping timeouts, suspicions, seeds).
  std::vector<OutgoingFrame> membership_tick(std::uint64_t now_ms);
  // Either lane: the member table and whether this peer is isolated (Membership::isolated_since_ms),
  // read together. (The membership() accessor belongs to the data lane, which may replace the machine.)
  struct MembershipView {
    std::map<PeerId, Member> members;
    std::optional<std::uint64_t> isolated_since_ms;
  };
  MembershipView membership_view();
  // Membership lane: handles `envelope` when it is for the failure detector (a Ping, PingAck or
  // PingRequest from a replica that is not retired). nullopt, untouched, for anything else: the
  // driver hands that to on_envelope() on the data lane.
  std::optional<std::vector<OutgoingFrame>> on_membership_message(const Envelope& envelope, std::uint64_t now_ms);

  // Data lane: dissemination, anti-entropy, stability and the member table's persistence; starts over
  // under a new replica id after the cluster retired this peer.
  std::vector<OutgoingFrame> data_tick(std::uint64_t now_ms);
  // Data lane: handles an opened envelope of any kind; `frame_bytes` is the size of its frame.
  std::vector<OutgoingFrame> on_envelope(const Envelope& envelope, std::size_t frame_bytes, std::uint64_t now_ms);

  // Asks to retire `replica` (an operator's decision; see Stability::propose_retirement): decided
  // once every member that may hold its dots agrees on its last one (Stability's rule in full), then
  // known cluster-wide.
  Status retire(PeerId replica, std::uint64_t now_ms) {
    return stability_->propose_retirement(replica, now_ms, *membership_);
  }

  // This peer's replica id: a new one after the cluster retired the old one (the store reincarnated)
  // or after the store found another copy of itself minting under it (docs/store.md "Identity"); the
  // peer then started over under the new id, and `reincarnations()` counts those restarts.
  PeerId id() const { return membership_->self(); }
  std::uint64_t reincarnations() const { return reincarnations_; }
  const Endpoint& endpoint() const { return endpoint_; }
  const Membership& membership() const { return *membership_; }
  const Ring& ring() const { return ring_; }
  const Dissemination& dissemination() const { return *dissemination_; }
  // Anti-entropy rounds and their stats (anti_entropy().stats()).
  const AntiEntropy& anti_entropy() const { return *anti_entropy_; }
  // Context reports, metadata compaction and retirement.
  Stability& stability() { return *stability_; }
  const Stability& stability() const { return *stability_; }
  const std::vector<PeerId>& neighbours() const { return neighbours_; }
  // Both lanes' counts.
  PeerStats stats() const;

 private:
  // Seals (or encodes) `outbox`, counting in the stats of `lane`.
  std::vector<OutgoingFrame> frames_of(Outbox outbox, Lane lane = Lane::kData);
  // Runs `count` on the stats of `lane` (the membership lane's are behind a lock).
  template <typename Count>
  void count_in(Lane lane, Count count) {
    if (lane == Lane::kData) {
      count(stats_);
      return;
    }
    std::lock_guard lock(membership_stats_mutex_);
    count(membership_stats_);
  }
  // Who sent a frame of another cluster, and which, for the log.
  std::string other_cluster_detail(const Envelope& envelope) const;
  // Who sent a frame with another partition count, for the log; and the PingAck answering a Ping of
  // theirs (empty for any other message).
  std::string other_partition_count_detail(const Envelope& envelope) const;
  std::vector<OutgoingFrame> refusal_for(const Envelope& envelope, Lane lane);
  // The frames of the data tick (everything but membership's timers).
  std::vector<OutgoingFrame> data_step(std::uint64_t now_ms);
  // Opens (when sealed) and decodes one received frame, as the security options say.
  DecodeResult open_and_decode(std::string_view frame);
  void refresh_neighbours();
  void remember_membership_changes();
  // Asks anti-entropy for rounds with neighbours the log cannot catch up and with members that
  // joined or came back, and hands completed rounds to dissemination.
  Outbox run_anti_entropy(std::uint64_t now_ms);
  // (Re)creates the state machines under the store's current replica id: at construction, and after
  // the store reincarnated because the cluster retired this peer.
  void build_machines();
  // True once the store no longer holds the id the machines run under (retired, or given up).
  bool identity_changed() const;
  // Starts over under the store's new replica id; the frames of the old id's leave (unless it was
  // retired) and of the new join.
  std::vector<OutgoingFrame> start_over(std::uint64_t now_ms);
  // Hands a received envelope to the machine it is for.
  Outbox dispatch(const Envelope& envelope, std::uint64_t now_ms);
  // Completed anti-entropy rounds go to dissemination; the first round that found this peer in sync
  // after a reincarnation re-issues the writes the store set aside, and while they still wait the
  // peers of completed rounds are asked for another one (at most every kRefillRoundIntervalMs).
  void finish_rounds(std::uint64_t now_ms);
  static constexpr std::uint64_t kRefillRoundIntervalMs = 1000;

  Endpoint endpoint_;
  std::vector<Endpoint> seeds_;
  PeerOptions options_;
  std::uint64_t cluster_id_;
  store::Replica& store_;
  std::uint32_t partition_count_;  // The store's, fixed for its life; stamped on every frame sent.
  std::uint64_t random_seed_;
  // Optional only so that build_machines() can recreate them under a new replica id.
  std::optional<Membership> membership_;
  Ring ring_;
  std::optional<Dissemination> dissemination_;
  std::optional<AntiEntropy> anti_entropy_;
  std::optional<Stability> stability_;
  std::uint64_t reincarnations_ = 0;
  std::uint64_t rounds_in_sync_seen_ = 0;
  std::uint64_t next_refill_round_ms_ = 0;
  std::vector<PeerId> neighbours_;
  std::vector<PeerId> reachable_before_;  // Sorted; reachable members at the previous gossip tick.
  // Membership::reachable_version() when the ring and reachable_before_ were last computed: they are
  // recomputed only when it moves (O(N log N) each time; every tick was too much at 10,000 peers).
  std::optional<std::uint64_t> ring_version_, reachable_before_version_;
  std::uint64_t next_gossip_ms_ = 0;
  PeerStats stats_;                    // The data lane's.
  std::optional<FrameSealer> sealer_;  // Set when there are cluster keys. Thread-safe.

  // The membership lane's state. Held for each whole membership-lane call, and by build_machines()
  // while it replaces membership_ (after a reincarnation), so the lane never sees it half-built.
  std::mutex membership_lane_mutex_;
  mutable std::mutex membership_stats_mutex_;
  PeerStats membership_stats_;  // Behind membership_stats_mutex_.
  // Set (by the data lane) once stability reincarnated the store, until the machines are rebuilt: the
  // membership lane then answers nothing, as the data lane does.
  std::atomic<bool> starting_over_{false};
};

}  // namespace cairn::gossip
