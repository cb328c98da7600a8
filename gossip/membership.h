// SWIM-style membership (Das, Gupta, Motivala, "SWIM", DSN 2002), as a sans-I/O state machine.
//
// Every protocol period the peer pings one member (round-robin over a shuffled list); if no ack comes
// within the ping timeout it asks k other members to ping it (indirect probe); if still nothing by the
// end of the period the member becomes suspect, and dead after the suspicion timeout unless it refutes
// by announcing itself alive with a higher incarnation. Membership changes ride on pings and acks
// (each update is piggybacked a bounded number of times). Joining is a ping to seed endpoints; leaving
// announces the peer's own "left" status. Time is whatever the caller passes in: nothing here reads
// a clock or touches a socket.
//
// Beyond the paper, so that a live member refutes a false suspicion well within the suspicion timeout
// even on a lossy network (as Lifeguard, Dadgar et al. 2018, argues): a suspicion is also sent straight
// to the suspect, and any message to a member we hold suspect carries that suspicion first; a
// refutation is also sent straight to a few members; and an ack corrects a pinger that told us
// older news than ours.
//
// Thread-safe: every public method takes the machine's own lock, held only while the method runs (it
// never waits for anything else: no I/O, no callbacks). So a driver may run failure detection (tick,
// on_message) on a thread of its own while another thread reads the table and retires members, and
// pings are answered while the store is busy (gossip::Peer's membership lane).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "cairn/defaults.h"
#include "gossip/messages.h"
#include "gossip/outgoing.h"
#include "src/util/rng.h"

namespace cairn::gossip {

struct MembershipOptions {
  std::uint64_t protocol_period_ms = kDefaultProtocolPeriodMs;
  std::uint64_t ping_timeout_ms = 300;
  int indirect_probes = 3;                       // k in SWIM.
  std::uint64_t suspicion_timeout_ms = kDefaultSuspicionTimeoutMs;     // Suspect -> dead.
  int piggyback_limit = 8;                       // Updates per message...
  int retransmit_multiplier = 3;                 // ...each sent about multiplier * log2(N+1) times.
  std::size_t max_members = kDefaultMaxMembers;                // Further unknown peers are ignored (and counted).
  std::uint64_t rejoin_seed_interval_ms = 5000;  // While alone, re-ping seeds this often.
  // Every this often, one random dead member is pinged, so members cut off by a partition that has
  // healed come back into view (0: never).
  std::uint64_t dead_probe_interval_ms = 10'000;

  // Lifeguard (Dadgar, Phillips, Currey, "Lifeguard: Local Health Awareness for More Accurate Failure
  // Detection", 2018). A peer that is itself slow -- it missed its own timers, or its probes keep
  // failing -- must not blame others for it. Its local health score (0 = healthy, up to
  // max_local_health) rises by one for each refutation of a suspicion of itself and by two when a tick
  // comes a whole protocol period late (a stalled process:
  // that period's probe is then dropped unjudged, and the suspicions it holds get the stall added, since
  // it could not hear their refutations), and falls by one for each acked probe (Lifeguard also raises
  // it for a probe whose helpers did not even nack; this wire has no nack). The protocol period,
  // the ping timeout and the suspicion timeout of the suspicions it raises itself are all multiplied by
  // (score + 1). 0 turns this off (plain SWIM).
  int max_local_health = 8;
  // Lifeguard's dynamic suspicion: a suspicion starts at suspicion_max_multiplier x suspicion_timeout_ms
  // and shrinks towards suspicion_timeout_ms, logarithmically, as independent confirmations arrive
  // (another member's suspicion of the same incarnation, up to indirect_probes of them). A member
  // truly dead is suspected by many quickly, so it is declared dead in about suspicion_timeout_ms; a
  // lone (possibly slow) accuser must wait longer, giving a live member time to refute. 1: a fixed
  // suspicion_timeout_ms.
  int suspicion_max_multiplier = 4;
  // A dead or departed member is forgotten (removed from the table, no longer probed or gossiped)
  // this long after it died or left; a new member arriving while the table is full replaces the one
  // dead or gone the longest, so a table full of dead members never blocks new ones. The default is
  // twice the retirement horizon (kDefaultRetireAfterMs), so a dead peer is retired before it is
  // forgotten. 0: only when the table is full.
  std::uint64_t forget_dead_after_ms = 2 * kDefaultRetireAfterMs;
};

struct Member {
  PeerId id;
  Endpoint endpoint;
  MemberStatus status = MemberStatus::kAlive;
  std::uint64_t incarnation = 0;
  std::uint64_t status_since_ms = 0;  // When this status began (for suspicion timeouts and `cairn peers`).
  std::uint64_t last_heard_ms = 0;    // Last direct message from it.
};

// Counters for metrics. `suspicions` and `deaths` count the members this peer itself suspected (an
// unanswered probe) and declared dead (an expired suspicion); what it merely heard from others is not
// counted. `refutations` counts this peer's own refutations of a suspicion or death of itself.
struct MembershipStats {
  std::uint64_t pings_sent = 0, acks_received = 0, indirect_probes_sent = 0;
  std::uint64_t suspicions = 0, deaths = 0, refutations = 0, ignored_full_table = 0;
  std::uint64_t other_cluster = 0;  // Envelopes dropped because their cluster id is not ours.
  std::uint64_t stalls = 0;            // Ticks that came a whole protocol period late (Lifeguard).
  std::uint64_t forgotten_dead = 0;    // Dead or departed members forgotten (by age, or to make room).
  std::uint64_t suspicion_confirmations = 0;  // Independent confirmations of suspicions we hold.
};

class Membership {
 public:
  // An ack to a joining peer piggybacks up to this many members (fewer if the datagram would overflow).
  static constexpr std::size_t kMaxJoinAckUpdates = 32;
  // A departure (leave()) or a refutation is also sent at once, in pings, to this many members; the
  // rest hear it by gossip.
  static constexpr std::size_t kAnnounceFanout = 3;
  // Pings sent on behalf of other members' PingRequests that await an ack at once.
  static constexpr std::size_t kMaxPendingRelays = 64;
  // Changes kept for take_changes() between calls.
  static constexpr std::size_t kMaxPendingChanges = 1u << 16;

  Membership(PeerId self, Endpoint self_endpoint, std::uint64_t cluster_id, MembershipOptions options,
             std::uint64_t random_seed);

  // Restores members remembered from a previous run (the peers table), all as alive-but-unverified
  // (retired ones excepted),
  // so a restarted peer probes its old cluster (those that do not answer become suspect, then dead).
  // Restored members are not reported by take_changes() nor disseminated. A remembered record of this
  // peer itself only raises its incarnation. Call before join().
  void restore(const std::vector<MemberUpdate>& remembered, std::uint64_t now_ms);

  // Starts the protocol: pings every seed endpoint (endpoints of this peer itself are skipped), and
  // re-pings them every rejoin_seed_interval_ms while no member is reachable.
  Outbox join(const std::vector<Endpoint>& seeds, std::uint64_t now_ms);

  // Drives timers: probes, ping timeouts, suspicion timeouts. Call at least every few tens of ms.
  Outbox tick(std::uint64_t now_ms);

  // Handles a membership message (Ping, PingAck, PingRequest); other bodies, envelopes of another
  // cluster (counted in stats) and envelopes claiming to come from this peer are ignored. Replies go to
  // the envelope's sender_endpoint (where the sender listens), not to the datagram's source address.
  Outbox on_message(const Envelope& envelope, std::uint64_t now_ms);

  // Announces that this peer leaves: its "left" record, at a new incarnation, goes directly to a few
  // members. After this, tick() sends nothing and a received ping is answered only with that record.
  Outbox leave(std::uint64_t now_ms);

  // Forgets `peer` for good (it was retired, gossip/stability.h): it leaves the table, is never
  // probed, and updates about it and messages from it are ignored from now on.
  void retire(PeerId peer);
  bool is_retired(PeerId peer) const;

  // Members other than self, by id (any status): a copy, taken under the lock.
  std::map<PeerId, Member> members() const;
  // Ids of members currently alive or suspect (suspects still get deltas), excluding self.
  std::vector<PeerId> reachable_members() const;
  // Bumped whenever the set of reachable members (or an endpoint of one) changes, so a caller that
  // derives something from reachable_members() (the ring, its neighbours) recomputes it only then:
  // at 10,000 members, rebuilding the ring every gossip tick was most of the simulator's time.
  std::uint64_t reachable_version() const;
  // How many members (other than self) have `status`; O(1).
  std::size_t count_with_status(MemberStatus status) const;
  std::optional<Endpoint> endpoint_of(PeerId peer) const;

  // Since when this peer has been isolated: it expects company (it was given seeds, or knows a member
  // that did not leave) but no member is alive or suspect (no seed answered, every member is dead).
  // Nullopt while some member is reachable or there is nobody to reach (a lone edge peer). Updated by
  // join() and tick(); it starts at join() when seeds are given.
  std::optional<std::uint64_t> isolated_since_ms() const;
  // The seed endpoints join() was given (without this peer's own endpoint and duplicates).
  std::vector<Endpoint> seeds() const;

  // Changes to members() since the last call (new members, status, incarnation or endpoint changes;
  // for persisting the peers table and logging), oldest first. At most kMaxPendingChanges are kept
  // between calls (the oldest are dropped), so call it regularly.
  std::vector<MemberUpdate> take_changes();

  PeerId self() const { return self_; }
  std::uint64_t incarnation() const;
  MembershipStats stats() const;
  // Lifeguard's local health score: 0 healthy, up to options.max_local_health (see MembershipOptions).
  int local_health() const;

 private:
  // The probe of the current protocol period.
  struct Probe {
    PeerId target;
    std::uint64_t number = 0;
    std::uint64_t sent_ms = 0;
    bool acked = false;          // Directly, or relayed by a helper.
    bool indirect_sent = false;  // PingRequests went out after the ping timeout.
  };
  // A ping this peer sent on behalf of another member's PingRequest, keyed by our own probe number.
  struct Relay {
    PeerId target;
    PeerId requester;
    Endpoint requester_endpoint;
    std::uint64_t requester_probe = 0;
    std::uint64_t expires_ms = 0;
  };
  // An update waiting to be piggybacked; one per member (a newer update replaces the older one).
  struct Gossip {
    MemberUpdate update;
    int transmissions = 0;
    std::uint64_t sequence = 0;  // Higher is newer.
  };

  // A suspicion we hold: who confirmed it (Lifeguard), and since when its clock runs.
  struct Suspicion {
    PeerId accuser;                // Who raised it (self when our own probe did).
    std::set<PeerId> confirmers;   // Distinct accusers heard of, the first one included.
    std::uint64_t started_ms = 0;
    std::uint64_t timeout_ms = 0;  // Before confirmations shrink it; includes the local health multiplier.
  };

  // Message construction.
  Outgoing make_outgoing(const Endpoint& to, Body body) const;
  void probe_dead_member(std::uint64_t now_ms, Outbox& out);
  Outgoing make_ping(const Endpoint& to, std::optional<PeerId> recipient, std::uint64_t probe,
                     bool include_self = false, const std::vector<MemberUpdate>& notices = {});
  void announce_self(std::optional<PeerId> except, Outbox& out);
  std::vector<MemberUpdate> piggyback(std::optional<PeerId> recipient, bool include_self, bool join_dump,
                                      const std::vector<MemberUpdate>& notices = {});
  struct Piggyback;  // The updates of one message being built, within its byte budget.
  void add_gossip(Piggyback& message);
  void add_join_dump(Piggyback& message);
  MemberUpdate self_update() const;
  void queue_gossip(const MemberUpdate& update);
  int retransmit_limit() const;
  void ping_seeds(std::uint64_t now_ms, Outbox& out);

  // Applying what we hear.
  // `from`: who told us (the envelope's sender), for counting independent confirmations.
  void apply(const std::vector<MemberUpdate>& updates, PeerId from, std::uint64_t now_ms);
  void apply_one(const MemberUpdate& update, PeerId from, std::uint64_t now_ms);
  void apply_about_self(const MemberUpdate& update);
  void add_correction(const MemberUpdate& update);
  void note_sender(const Envelope& envelope, std::uint64_t now_ms);
  void confirm_alive(PeerId peer, std::uint64_t now_ms, Outbox& out);
  void set_status(Member& member, MemberStatus status, std::uint64_t incarnation, std::uint64_t now_ms,
                  bool disseminate, std::optional<PeerId> suspected_by = std::nullopt);
  void record_change(const Member& member, bool disseminate);
  bool table_full() const { return members_.size() >= options_.max_members; }
  // Keeps status_count_ and reachable_version_ in step with members_: every insertion, erasure and
  // status change of a member goes through these.
  Member& insert_member(const Member& member);
  void erase_member(std::map<PeerId, Member>::iterator it);
  void count_status(MemberStatus status, int delta);

  // Message handlers.
  void on_ping(const Envelope& envelope, const Ping& ping, std::uint64_t now_ms, Outbox& out);
  void on_ack(const Envelope& envelope, const PingAck& ack, std::uint64_t now_ms, Outbox& out);
  void on_ping_request(const Envelope& envelope, const PingRequest& request, std::uint64_t now_ms,
                       Outbox& out);

  // Timers.
  void finish_probe(std::uint64_t now_ms, Outbox& out);
  void start_probe(std::uint64_t now_ms, Outbox& out);
  void send_indirect_probes(Outbox& out);
  void expire_suspicions(std::uint64_t now_ms);
  std::uint64_t suspicion_deadline_ms(const Suspicion& suspicion) const;
  void confirm_suspicion(PeerId suspect, PeerId from);
  // Lifeguard's local health: the multiplier (score + 1), and moving the score within its bounds.
  std::uint64_t health_multiplier() const { return static_cast<std::uint64_t>(local_health_) + 1; }
  void adjust_health(int delta);
  void note_stall(std::uint64_t now_ms);
  void forget_old_dead(std::uint64_t now_ms);
  bool make_room();
  void forget(PeerId peer);
  void expire_relays(std::uint64_t now_ms);
  void rejoin_if_alone(std::uint64_t now_ms, Outbox& out);

  // Member selection.
  std::optional<PeerId> next_probe_target();
  void schedule_probe(PeerId peer);
  std::vector<PeerId> pick_random(std::vector<PeerId> candidates, std::size_t count);
  std::optional<PeerId> member_at(const Endpoint& endpoint) const;
  std::vector<PeerId> reachable_ids() const;
  std::size_t reachable_count() const;
  void update_isolation(std::uint64_t now_ms);

  // Guards everything below (self_ never changes). Public methods lock it; private ones expect it held.
  mutable std::mutex mutex_;
  const PeerId self_;
  Endpoint self_endpoint_;
  std::uint64_t cluster_id_;
  MembershipOptions options_;
  Rng rng_;
  std::uint64_t incarnation_ = 0;
  bool left_ = false;
  bool refuted_ = false;  // Set by a refutation while handling a message; announced before returning.
  // Our newer records of what the message being handled told us in an older version: its sender
  // holds stale news, so our reply corrects it (at most piggyback_limit of them).
  std::vector<MemberUpdate> corrections_;
  std::map<PeerId, Member> members_;
  // Members per status (indexed by MemberStatus), so the per-tick checks (any suspect to expire? how
  // many reachable?) cost O(1) instead of a walk over the whole table.
  std::array<std::size_t, 4> status_count_{};
  std::map<PeerId, Suspicion> suspicions_;  // One per member whose status is kSuspect.
  int local_health_ = 0;
  std::uint64_t last_tick_ms_ = 0;
  std::uint64_t next_forget_check_ms_ = 0;
  std::uint64_t reachable_version_ = 0;
  std::vector<MemberUpdate> changes_;
  MembershipStats stats_;

  std::vector<Endpoint> seeds_;
  std::uint64_t last_seed_ping_ms_ = 0;
  std::uint64_t next_dead_probe_ms_ = 0;
  std::vector<PeerId> probe_order_;  // Shuffled round-robin; entries that died since are skipped.
  std::size_t probe_index_ = 0;
  std::optional<Probe> probe_;
  std::uint64_t next_period_ms_ = 0;
  std::uint64_t next_probe_number_ = 1;
  std::map<std::uint64_t, Relay> relays_;
  std::map<PeerId, Gossip> gossip_;
  std::uint64_t gossip_sequence_ = 0;
  std::set<PeerId> heard_from_;  // Members that sent us a message directly (they know who we are).
  std::set<PeerId> retired_;     // Retired replicas: never members again.
  std::optional<std::uint64_t> isolated_since_ms_;
};

}  // namespace cairn::gossip
