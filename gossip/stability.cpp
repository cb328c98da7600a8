#include "gossip/stability.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "src/util/hex_id.h"

namespace cairn::gossip {
namespace {
constexpr std::uint64_t kDeadMemberCheckIntervalMs = 1'000;
}  // namespace
namespace {

std::uint64_t entry_of(const std::map<PeerId, std::uint64_t>& vector, PeerId replica) {
  auto it = vector.find(replica);
  return it == vector.end() ? 0 : it->second;
}

}  // namespace

Stability::Stability(PeerId self, Endpoint self_endpoint, std::uint64_t cluster_id, store::Replica& store,
                     StabilityOptions options)
    : self_(self),
      self_endpoint_(std::move(self_endpoint)),
      cluster_id_(cluster_id),
      store_(store),
      options_(options) {}

void Stability::start(Membership& membership) {
  for (const std::uint64_t predecessor : store_.identity().predecessors) predecessors_.emplace(PeerId{predecessor}, 0);
  auto known = store_.retirements();
  if (!known) {
    ++stats_.store_errors;
    return;
  }
  for (const Retirement& retirement : *known) {
    retired_[PeerId{retirement.replica}] = retirement.through;
    membership.retire(PeerId{retirement.replica});
    predecessors_.erase(PeerId{retirement.replica});
  }
}

Outbox Stability::tick(std::uint64_t now_ms, Membership& membership) {
  if (reincarnated_) return {};
  propose_dead_members(now_ms, membership);
  propose_abandoned_predecessors(now_ms, membership);
  decide(membership);
  if (!sweeping_ && now_ms >= next_sweep_ms_) {
    sweeping_ = true;
    next_sweep_ms_ = now_ms + options_.compaction_interval_ms;
  }
  if (sweeping_) compact_slice();
  Outbox out = check_identity(now_ms, membership);
  if (options_.report_interval_ms == 0 || now_ms < next_report_ms_) return out;
  next_report_ms_ = now_ms + options_.report_interval_ms;
  Outbox reports = send_reports(now_ms, membership);
  out.insert(out.end(), std::make_move_iterator(reports.begin()), std::make_move_iterator(reports.end()));
  return out;
}

Outbox Stability::check_identity(std::uint64_t now_ms, const Membership& membership) {
  if (store_.identity().unconfirmed_from == 0) return {};
  // Every report kept here arrived since this peer started (they are not persisted), and each one was
  // checked for a dot of this id from unconfirmed_from on when it arrived (observe_own_dots).
  bool every_member_heard_reported = !reports_.empty();
  for (const auto& [id, member] : membership.members()) {
    if (member.last_heard_ms != 0 && is_reachable(member.status) && !reports_.contains(id)) {
      every_member_heard_reported = false;
    }
  }
  if (every_member_heard_reported) {
    if (auto confirmed = store_.confirm_identity(); confirmed) {
      ++stats_.identity_confirmations;
    } else {
      ++stats_.store_errors;
    }
    return {};
  }
  if (now_ms < next_confirm_request_ms_) return {};
  next_confirm_request_ms_ = now_ms + options_.confirm_request_interval_ms;
  ContextReport report = own_report();
  report.reply_wanted = true;
  const Channel channel = channel_for(report);
  Outbox out;
  for (PeerId member : membership.reachable_members()) {
    if (reports_.contains(member)) continue;
    auto endpoint = membership.endpoint_of(member);
    if (!endpoint) continue;
    out.push_back(Outgoing{*endpoint, channel, Envelope{cluster_id_, self_, self_endpoint_, report}});
    ++stats_.report_requests_sent;
  }
  return out;
}

void Stability::observe_own_dots(const ContextReport& report) {
  std::uint64_t highest = 0;
  for (const auto* entries : {&report.vector, &report.gaps}) {
    for (const VectorEntry& entry : *entries) {
      if (entry.replica == self_) highest = std::max(highest, entry.counter);
    }
  }
  if (highest == 0) return;
  auto change = store_.observe_own_dots(highest);
  if (!change) {
    ++stats_.store_errors;
  } else if (change->has_value()) {
    ++stats_.identity_conflicts;  // The store took a new id; gossip::Peer starts over under it.
  }
}

Outbox Stability::reply_to(const Envelope& envelope, std::uint64_t now_ms) {
  auto [last, first_time] = last_reply_ms_.try_emplace(envelope.sender, now_ms);
  if (!first_time && now_ms < last->second + options_.reply_interval_ms) return {};
  last->second = now_ms;
  ContextReport report = own_report();
  const Channel channel = channel_for(report);
  ++stats_.reports_sent;
  Outbox out;
  out.push_back(Outgoing{envelope.sender_endpoint, channel, Envelope{cluster_id_, self_, self_endpoint_, std::move(report)}});
  return out;
}

void Stability::propose_abandoned_predecessors(std::uint64_t now_ms, const Membership& membership) {
  if (options_.retire_after_ms == 0) return;
  for (auto it = predecessors_.begin(); it != predecessors_.end();) {
    const PeerId replica = it->first;
    if (retired_.contains(replica)) {
      it = predecessors_.erase(it);
      continue;
    }
    const std::map<PeerId, Member> members = membership.members();  // A copy: membership is shared.
    auto member = members.find(replica);
    const bool reachable = member != members.end() && is_reachable(member->second.status);
    if (it->second == 0 || reachable) {
      it->second = now_ms;  // Another copy may still run as it: the horizon starts when it is gone.
    } else if (now_ms >= it->second + options_.retire_after_ms && !proposals_.contains(replica)) {
      proposals_[replica] = Proposal{now_ms, false};
    }
    ++it;
  }
}

Stability::OwnContext Stability::own_context() {
  OwnContext own;
  auto entries = store_.context_vector();
  if (!entries) {
    ++stats_.store_errors;
    return own;
  }
  for (const VersionVectorEntry& entry : *entries) {
    const PeerId replica{entry.replica};
    if (retired_.contains(replica)) continue;
    if (entry.counter != 0) own.vector[replica] = entry.counter;
    if (entry.beyond_gap != 0) own.gaps[replica] = entry.beyond_gap;
  }
  return own;
}

ContextReport Stability::own_report() {
  ContextReport report;
  OwnContext own = own_context();
  // Own dots that wait for confirmation are not reported: no one may hold them yet, and a report of
  // them would look, to another copy of this id, like a copy that minted beyond it.
  if (const std::uint64_t unconfirmed_from = store_.identity().unconfirmed_from; unconfirmed_from != 0) {
    own.gaps.erase(self_);
    own.vector[self_] = std::min(entry_of(own.vector, self_), unconfirmed_from - 1);
    if (own.vector[self_] == 0) own.vector.erase(self_);
  }
  for (const auto& [replica, counter] : own.vector) report.vector.push_back(VectorEntry{replica, counter});
  for (const auto& [replica, highest] : own.gaps) report.gaps.push_back(VectorEntry{replica, highest});
  for (const auto& [replica, through] : retired_) report.retirements.push_back(RetiredReplica{replica, through});
  return report;
}

Channel Stability::channel_for(const ContextReport& report) const {
  // A small report fits a datagram (no connection to every member); a large one needs a stream.
  return report.vector.size() + report.retirements.size() + report.gaps.size() <= kMaxDatagramReportEntries
             ? Channel::kDatagram
             : Channel::kStream;
}

Outbox Stability::send_reports(std::uint64_t, const Membership& membership) {
  const ContextReport report = own_report();
  const Channel channel = channel_for(report);
  Outbox out;
  for (PeerId member : membership.reachable_members()) {
    auto endpoint = membership.endpoint_of(member);
    if (!endpoint) continue;
    out.push_back(Outgoing{*endpoint, channel, Envelope{cluster_id_, self_, self_endpoint_, report}});
    ++stats_.reports_sent;
  }
  return out;
}

void Stability::compact_slice() {
  std::vector<ReplicaReport> reports;
  reports.reserve(reports_.size());
  for (const auto& [member, report] : reports_) {
    ReplicaReport converted{member.value, {}};
    for (const auto& [replica, counter] : report.vector) converted.vector.push_back({replica.value, counter});
    reports.push_back(std::move(converted));
  }
  auto pass = store_.compact_counter_resets(reports, options_.compaction_records_per_tick);
  if (!pass) {
    ++stats_.store_errors;
    sweeping_ = false;
    return;
  }
  stats_.resets_dropped += pass->resets_dropped;
  stats_.records_removed += pass->records_removed;
  if (pass->wrapped) {
    sweeping_ = false;
    ++stats_.compaction_sweeps;
  }
}

Outbox Stability::on_message(const Envelope& envelope, std::uint64_t now_ms, Membership& membership) {
  if (reincarnated_ || envelope.sender == self_) return {};
  if (const auto* notice = std::get_if<RetiredNotice>(&envelope.body)) {
    // A notice about another id (say, one this peer had before it reincarnated) is stale: ignored.
    if (notice->replica == self_) learn_retirement(self_, notice->through, membership);
    return {};
  }
  const auto* incoming = std::get_if<ContextReport>(&envelope.body);
  if (!incoming) return {};
  ++stats_.reports_received;
  // Retirements first: a report may be what tells this peer that it, or its sender, was retired.
  for (const RetiredReplica& retirement : incoming->retirements) {
    auto known = retired_.find(retirement.replica);
    if (known == retired_.end() || retirement.through < known->second) {
      learn_retirement(retirement.replica, retirement.through, membership);
    }
    if (reincarnated_) return {};
  }
  if (retired_.contains(envelope.sender)) return {};
  observe_own_dots(*incoming);
  // Both reports are true of the sender's context, which only grows: their pointwise max is too.
  Report& report = reports_[envelope.sender];
  for (const VectorEntry& entry : incoming->vector) {
    std::uint64_t& counter = report.vector[entry.replica];
    counter = std::max(counter, entry.counter);
  }
  // Gaps too are kept order-independently (an older report may arrive last): a gap stands until the
  // member's vector reaches its highest dot, which is how a gap closes (a context only grows).
  for (const VectorEntry& entry : incoming->gaps) {
    std::uint64_t& highest = report.gaps[entry.replica];
    highest = std::max(highest, entry.counter);
  }
  std::erase_if(report.gaps, [&](const auto& gap) { return entry_of(report.vector, gap.first) >= gap.second; });
  report.received_ms = now_ms;
  return incoming->reply_wanted ? reply_to(envelope, now_ms) : Outbox{};
}

Outbox Stability::answer_retired(const Envelope& envelope, std::uint64_t now_ms) {
  auto retired = retired_.find(envelope.sender);
  if (retired == retired_.end()) return {};
  auto [last, first_time] = last_notice_ms_.try_emplace(envelope.sender, now_ms);
  if (!first_time && now_ms < last->second + options_.notice_interval_ms) return {};
  last->second = now_ms;
  ++stats_.retired_notices_sent;
  Outbox out;
  out.push_back(Outgoing{envelope.sender_endpoint, Channel::kDatagram,
                         Envelope{cluster_id_, self_, self_endpoint_, RetiredNotice{envelope.sender, retired->second}}});
  return out;
}

void Stability::learn_retirement(PeerId replica, std::uint64_t through, Membership& membership) {
  if (replica == self_) {
    if (reincarnated_) return;
    // Our own dots beyond `through` reached no live peer: the store sets them aside, starts empty under
    // a new id and re-issues them once anti-entropy has refilled it (gossip::Peer restarts us then).
    if (auto reborn = store_.reincarnate(through); !reborn) {
      ++stats_.store_errors;
      return;
    }
    reincarnated_ = true;
    return;
  }
  // On a store error nothing is recorded: the next report repeats the retirement.
  if (auto added = record_retirement(replica, through, membership); added && *added) ++stats_.retirements_learned;
}

Result<bool> Stability::record_retirement(PeerId replica, std::uint64_t through, Membership& membership) {
  if (auto stored = store_.retire_replica(replica.value, through); !stored) {
    ++stats_.store_errors;
    return tl::unexpected(stored.error());
  }
  auto [entry, added] = retired_.try_emplace(replica, through);
  entry->second = std::min(entry->second, through);  // The store keeps the smaller one too.
  membership.retire(replica);
  reports_.erase(replica);
  proposals_.erase(replica);
  return added;
}

Status Stability::propose_retirement(PeerId replica, std::uint64_t now_ms, const Membership& membership) {
  if (replica == self_) return fail(ErrorCode::kInvalidArgument, "a peer cannot retire itself");
  if (retired_.contains(replica)) return ok();
  const std::map<PeerId, Member> members = membership.members();  // A copy: membership is shared.
  auto member = members.find(replica);
  if (member == members.end()) {
    // Never a member here, but an id this store's data had before, or one whose dots it holds (an
    // abandoned id of a copied or restored store): retiring it is what lets its entry go.
    const OwnContext own = own_context();
    if (!predecessors_.contains(replica) && !own.vector.contains(replica) && !own.gaps.contains(replica)) {
      return fail(ErrorCode::kNotFound, "no member " + hex_id(replica.value) + " is known here");
    }
  } else if (is_reachable(member->second.status)) {
    return fail(ErrorCode::kInvalidArgument, "member " + hex_id(replica.value) +
                                                 " is reachable: stop it (or wait until it is dead) before retiring it");
  }
  Proposal& proposal = proposals_[replica];
  proposal.proposed_ms = now_ms;
  proposal.by_operator = true;
  return ok();
}

void Stability::propose_dead_members(std::uint64_t now_ms, const Membership& membership) {
  if (options_.retire_after_ms == 0 || now_ms < next_dead_check_ms_) return;
  next_dead_check_ms_ = now_ms + kDeadMemberCheckIntervalMs;
  if (membership.count_with_status(MemberStatus::kDead) + membership.count_with_status(MemberStatus::kLeft) == 0) {
    return;
  }
  for (const auto& [id, member] : membership.members()) {
    if (is_reachable(member.status) || proposals_.contains(id) || retired_.contains(id)) continue;
    if (now_ms >= member.status_since_ms + options_.retire_after_ms) proposals_[id] = Proposal{now_ms, false};
  }
}

std::vector<PeerId> Stability::blockers(PeerId replica, const Proposal& proposal, const Membership& membership,
                                        const OwnContext& own) const {
  const std::uint64_t through = entry_of(own.vector, replica);
  std::vector<PeerId> waiting;
  // A dot seen past a gap is one the decision would drop although a live peer holds it: wait until
  // the gap fills (or, if the replica died before sending the missing dots, for good: see the docs).
  if (own.gaps.contains(replica)) waiting.push_back(self_);
  // Every member that may hold dots of the replica must have reported: the reachable ones, and the
  // unreachable ones too unless they are being retired as well (a peer that left announced it and
  // is not asked; one being retired hands its knowledge to no one anyway).
  for (const auto& [member, state] : membership.members()) {
    if (member == replica || is_reachable(state.status) || state.status == MemberStatus::kLeft ||
        proposals_.contains(member)) {
      continue;
    }
    waiting.push_back(member);
  }
  const std::vector<PeerId> reachable = membership.reachable_members();
  for (PeerId member : reachable) {
    if (member == replica) continue;
    auto report = reports_.find(member);
    // A report from before the proposal may predate a dot of the replica the member received later.
    if (report == reports_.end() || report->second.received_ms <= proposal.proposed_ms ||
        entry_of(report->second.vector, replica) != through || report->second.gaps.contains(replica)) {
      waiting.push_back(member);
    }
  }
  // Only a peer that reaches a majority of the members (itself included, the replica excluded)
  // decides: a peer cut off from the rest must not retire them all.
  // Members that left announced it themselves: never a sign of a partition, so not counted.
  std::size_t known = 1, reached = 1;
  for (const auto& [id, member] : membership.members()) {
    if (id == replica || member.status == MemberStatus::kLeft) continue;
    ++known;
    if (is_reachable(member.status)) ++reached;
  }
  if (2 * reached <= known) {
    for (const auto& [id, member] : membership.members()) {
      if (id != replica && !is_reachable(member.status) && member.status != MemberStatus::kLeft) {
        waiting.push_back(id);
      }
    }
  }
  std::sort(waiting.begin(), waiting.end());
  waiting.erase(std::unique(waiting.begin(), waiting.end()), waiting.end());
  return waiting;
}

void Stability::decide(Membership& membership) {
  if (proposals_.empty()) return;
  const OwnContext own = own_context();
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    const PeerId replica = it->first;
    const std::map<PeerId, Member> members = membership.members();  // A copy: membership is shared.
    auto member = members.find(replica);
    // A replica membership does not know (an abandoned id) stays proposed until it shows up alive.
    if ((member != members.end() && is_reachable(member->second.status)) ||
        retired_.contains(replica)) {
      it = proposals_.erase(it);  // It came back (or is already retired): nothing to decide.
      continue;
    }
    if (!blockers(replica, it->second, membership, own).empty()) {
      ++it;
      continue;
    }
    ++it;  // record_retirement erases the proposal.
    if (record_retirement(replica, entry_of(own.vector, replica), membership)) ++stats_.retirements_decided;
  }
}

std::vector<PendingRetirement> Stability::pending(const Membership& membership) {
  const OwnContext own = own_context();
  std::vector<PendingRetirement> result;
  for (const auto& [replica, proposal] : proposals_) {
    result.push_back(PendingRetirement{replica, proposal.proposed_ms, proposal.by_operator,
                                       blockers(replica, proposal, membership, own)});
  }
  return result;
}

}  // namespace cairn::gossip
