// Causal stability and retirement: what each peer has seen, told to every member, and what it is for
// (docs/metadata-gc.md).
//
// Every report_interval_ms a peer sends each reachable member a ContextReport: the version vector of its
// causal context and every retirement it knows (a datagram while small, else over the stream channel). From the reports it keeps (the newest per member):
//   - counter reset entries are compacted (Replica::compact_counter_resets, in bounded slices): a reset
//     goes once its contributor's report shows it had seen it and this peer has every dot the
//     contributor had minted by then; no clock is consulted, so nothing is ever reaped early;
//   - a replica is retired: an operator asks (propose_retirement), or a member stays dead or left for
//     retire_after_ms. The proposal becomes a decision only when the replica is still unreachable,
//     every member that may hold its dots (not left, not being retired too) has reported since the
//     proposal with the same counter n for it as this peer has, no one has seen a dot of it past a gap
//     (so no peer that will speak again holds a dot of it beyond n), and this peer reaches a majority
//     of the members. The decision (replica, n) is stored, the
//     replica forgotten by membership, and carried by every later report, so every peer learns it.
// Reports also check this peer's own identity (docs/store.md "Identity"): after a restart its newest
// own dots stay unconfirmed (gossip ships none of them) until every member it has heard from has
// reported, asked at once rather than at the next interval; a report holding a dot of its id that it
// never shipped shows another copy of it (a directory rolled back in place), and the store moves to a
// new id (gossip::Peer then starts over under it).
// A frame from a retired replica is answered with a RetiredNotice; the retired peer (or any peer that
// learns from a report that it is retired) empties its store, takes a new replica id and re-issues
// its unsynced writes once anti-entropy has refilled it (Replica::reincarnate): gossip::Peer then starts
// over under the new id.
//
// Sans-I/O: no sockets, no clock; one thread calls everything.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cairn/defaults.h"
#include "src/store/replica.h"
#include "gossip/membership.h"
#include "gossip/messages.h"
#include "gossip/outgoing.h"

namespace cairn::gossip {

// Reports of at most this many entries (vector entries plus retirements) go as one datagram, well
// within kMaxDatagramBytes; larger ones over the stream channel.
inline constexpr std::size_t kMaxDatagramReportEntries = 40;

struct StabilityOptions {
  std::uint64_t report_interval_ms = 5'000;      // A report to every reachable member; 0: never.
  std::uint64_t compaction_interval_ms = 10'000;  // A sweep of the counter records holding resets.
  std::size_t compaction_records_per_tick = 256;  // Records one tick of a sweep examines.
  // A member dead or left this long is proposed for retirement; 0: only an operator retires peers.
  std::uint64_t retire_after_ms = kDefaultRetireAfterMs;
  std::uint64_t notice_interval_ms = 1'000;  // At most one RetiredNotice per retired sender this often.
  // While this peer's newest own dots wait for confirmation (a restart: docs/store.md "Identity"), the
  // reachable members that have not reported yet are asked for a report this often...
  std::uint64_t confirm_request_interval_ms = 250;
  // ...and a member that asks is answered at once, at most this often.
  std::uint64_t reply_interval_ms = 100;
};

struct StabilityStats {
  std::uint64_t reports_sent = 0, reports_received = 0;
  std::uint64_t resets_dropped = 0, records_removed = 0, compaction_sweeps = 0;
  std::uint64_t retirements_decided = 0;  // Decided by this peer.
  std::uint64_t retirements_learned = 0;  // Heard from others.
  std::uint64_t retired_notices_sent = 0;
  std::uint64_t store_errors = 0;
  std::uint64_t report_requests_sent = 0;   // Reports sent asking for a reply (identity check).
  std::uint64_t identity_confirmations = 0;  // Own dots confirmed by every member heard from.
  std::uint64_t identity_conflicts = 0;      // Reports that showed another copy of this peer's id.
};

// A retirement this peer proposed that is not decided yet, and what it waits for.
struct PendingRetirement {
  PeerId replica;
  std::uint64_t proposed_ms = 0;
  bool by_operator = false;
  // What it waits for (ascending): members with no report since the proposal (unreachable ones unless
  // proposed too or left), or with another counter or a gap in the replica's dots; this peer itself
  // while it has such a gap; and the unreachable members while this peer reaches no majority.
  std::vector<PeerId> waiting_for;
};

class Stability {
 public:
  // `store` is borrowed and must outlive this object.
  Stability(PeerId self, Endpoint self_endpoint, std::uint64_t cluster_id, store::Replica& store, StabilityOptions options);

  // Loads the retirements the store knows and makes membership forget those replicas.
  void start(Membership& membership);

  // Reports, compaction slices, horizon proposals and decisions.
  Outbox tick(std::uint64_t now_ms, Membership& membership);

  // Handles ContextReport and RetiredNotice; other bodies are ignored. Returns this peer's report to a
  // sender that asked for one (ContextReport::reply_wanted).
  Outbox on_message(const Envelope& envelope, std::uint64_t now_ms, Membership& membership);

  // True when `sender` is a retired replica; answer_retired() then gives the notice to send it (at
  // most one per notice_interval_ms per sender).
  bool is_retired(PeerId replica) const { return retired_.contains(replica); }
  Outbox answer_retired(const Envelope& envelope, std::uint64_t now_ms);

  // An operator's request to retire `replica`. kInvalidArgument for this peer itself and for a member
  // that is reachable (stop it first), kNotFound for a replica membership never knew. Retiring an
  // already retired replica succeeds and changes nothing.
  Status propose_retirement(PeerId replica, std::uint64_t now_ms, const Membership& membership);
  std::vector<PendingRetirement> pending(const Membership& membership);
  const std::map<PeerId, std::uint64_t>& retired() const { return retired_; }

  // Set once this peer learned that it was retired and its store reincarnated under a new replica id.
  bool reincarnated() const { return reincarnated_; }

  const StabilityStats& stats() const { return stats_; }

 private:
  struct Report {
    std::map<PeerId, std::uint64_t> vector;  // Pointwise max of what the member reported.
    std::map<PeerId, std::uint64_t> gaps;    // As last reported (gaps fill, so no max).
    std::uint64_t received_ms = 0;
  };
  // This peer's own context, as reports carry it.
  struct OwnContext {
    std::map<PeerId, std::uint64_t> vector;
    std::map<PeerId, std::uint64_t> gaps;
  };
  struct Proposal {
    std::uint64_t proposed_ms = 0;
    bool by_operator = false;
  };

  // This peer's report (own entry capped below its unconfirmed dots, which no one may hold yet).
  ContextReport own_report();
  Channel channel_for(const ContextReport& report) const;
  Outbox send_reports(std::uint64_t now_ms, const Membership& membership);
  // Identity check (docs/store.md "Identity"): while the store's newest own dots are unconfirmed, asks
  // the reachable members that have not reported since this peer started for a report, and confirms
  // them once every member heard from since then has reported. A report showing a dot of this id from
  // unconfirmed_from on (or beyond any minted here) moves the store to a new id when it arrives.
  Outbox check_identity(std::uint64_t now_ms, const Membership& membership);
  void observe_own_dots(const ContextReport& report);
  Outbox reply_to(const Envelope& envelope, std::uint64_t now_ms);
  // The ids this store's data had before (a copy, a conflict, a retirement): once one has been
  // unreachable for retire_after_ms (or was never a member), it is proposed like a dead member.
  void propose_abandoned_predecessors(std::uint64_t now_ms, const Membership& membership);
  void compact_slice();
  void propose_dead_members(std::uint64_t now_ms, const Membership& membership);
  void decide(Membership& membership);
  // What blocks `replica`'s proposal (empty: it can be decided, at `*through`).
  std::vector<PeerId> blockers(PeerId replica, const Proposal& proposal, const Membership& membership,
                               const OwnContext& own) const;
  void learn_retirement(PeerId replica, std::uint64_t through, Membership& membership);
  // Stores the retirement of `replica` (keeping the smaller `through`) and forgets the replica: its
  // membership, report and proposal. True when it was not known before; an error (counted) when the
  // store refused, and then nothing changes.
  Result<bool> record_retirement(PeerId replica, std::uint64_t through, Membership& membership);
  OwnContext own_context();

  PeerId self_;
  Endpoint self_endpoint_;
  std::uint64_t cluster_id_;
  store::Replica& store_;
  StabilityOptions options_;
  std::map<PeerId, Report> reports_;
  std::map<PeerId, std::uint64_t> retired_;  // Replica -> through.
  std::map<PeerId, Proposal> proposals_;
  std::map<PeerId, std::uint64_t> last_notice_ms_;
  std::map<PeerId, std::uint64_t> last_reply_ms_;
  std::uint64_t next_confirm_request_ms_ = 0;
  // Predecessor ids not retired yet -> since when unreachable (0: not looked at yet).
  std::map<PeerId, std::uint64_t> predecessors_;
  std::uint64_t next_report_ms_ = 0;
  // propose_dead_members walks a copy of the member table: once a second at most, not every tick (at
  // 1,000 simulated peers that copy was a fifth of the simulator's time; retire_after_ms is days).
  std::uint64_t next_dead_check_ms_ = 0;
  std::uint64_t next_sweep_ms_ = 0;
  bool sweeping_ = false;
  bool reincarnated_ = false;
  StabilityStats stats_;
};

}  // namespace cairn::gossip
