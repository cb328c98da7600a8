// A gossip peer as one sans-I/O machine: membership (SWIM over datagrams), the ring that picks gossip
// neighbours from the live members, and delta dissemination (over streams), joined around a store.
//
// The driver feeds it received frames and clock ticks and sends the frames it returns; it owns no
// sockets and reads no clock. Frames are sealed and opened here (gossip/sealing.h), so every driver
// (the libuv transport, the simulator) carries only sealed frames: a frame that is unsealed, sealed
// under another key, tampered with or replayed is counted and dropped before its payload is decoded;
// one that is oversized, undecodable, of another protocol version or from another cluster is counted
// and dropped before any other work.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cairn/store.h"
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
  std::uint64_t gossip_interval_ms = 200;  // How often new deltas are pushed to neighbours.
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

class Peer {
 public:
  // `store` is borrowed and must outlive the peer. `random_seed` drives membership's random choices.
  Peer(Endpoint self_endpoint, Store& store, std::vector<Endpoint> seeds, PeerOptions options,
       std::uint64_t random_seed);

  // Joins through the seeds (and members remembered from an earlier run).
  std::vector<OutgoingFrame> start(std::uint64_t now_ms);
  // Drives all timers; call every few tens of milliseconds.
  std::vector<OutgoingFrame> tick(std::uint64_t now_ms);
  // Handles one received frame (a whole datagram, or one frame read from a stream).
  std::vector<OutgoingFrame> on_frame(std::string_view frame, std::uint64_t now_ms);
  // Announces a graceful leave.
  std::vector<OutgoingFrame> leave(std::uint64_t now_ms);

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
  const PeerStats& stats() const { return stats_; }

 private:
  std::vector<OutgoingFrame> frames_of(Outbox outbox);
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
  Store& store_;
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
  std::uint64_t next_gossip_ms_ = 0;
  PeerStats stats_;
  std::optional<FrameSealer> sealer_;  // Set when there are cluster keys.
};

}  // namespace cairn::gossip
