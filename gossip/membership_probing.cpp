// The SWIM failure detector of Membership (membership.h): handling pings, acks and ping requests, the
// probe and suspicion timers, and picking whom to probe. Like membership.cpp, everything here is decided
// by the inputs and the seeded Rng.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include "gossip/membership.h"

namespace cairn::gossip {

// ---- Message handlers ----

void Membership::on_ping(const Envelope& envelope, const Ping& ping, std::uint64_t now_ms, Outbox& out) {
  const bool first_contact = !heard_from_.contains(envelope.sender);
  apply(ping.updates, envelope.sender, now_ms);
  note_sender(envelope, now_ms);
  // A peer that never talked to us, or one we hold dead or left (a restart), may be joining: tell it
  // whom we know. That is one larger ack per pair of peers, and a simultaneous start converges in a
  // few periods instead of waiting for gossip. Its own record goes first when we hold it dead, so
  // that it refutes.
  auto it = members_.find(envelope.sender);
  const bool returning = it != members_.end() && !is_reachable(it->second.status);
  const bool joining = first_contact || returning;
  out.push_back(
      make_outgoing(envelope.sender_endpoint,
                    PingAck{ping.probe, piggyback(envelope.sender, first_contact, joining, corrections_)}));
}

void Membership::on_ack(const Envelope& envelope, const PingAck& ack, std::uint64_t now_ms, Outbox& out) {
  apply(ack.updates, envelope.sender, now_ms);
  note_sender(envelope, now_ms);
  ++stats_.acks_received;
  auto relay = relays_.find(ack.probe);
  if (relay != relays_.end() && relay->second.target == envelope.sender) {
    // We pinged this target for someone else: relay the ack under the requester's probe number.
    out.push_back(make_outgoing(
        relay->second.requester_endpoint,
        PingAck{relay->second.requester_probe, piggyback(relay->second.requester, false, false)}));
    relays_.erase(relay);
  }
  if (probe_ && probe_->number == ack.probe) {
    probe_->acked = true;  // Directly from the target, or relayed by one of our helpers.
    confirm_alive(probe_->target, now_ms, out);
  }
  confirm_alive(envelope.sender, now_ms, out);
}

void Membership::on_ping_request(const Envelope& envelope, const PingRequest& request, std::uint64_t now_ms,
                                 Outbox& out) {
  apply(request.updates, envelope.sender, now_ms);
  note_sender(envelope, now_ms);
  if (request.target == self_) {
    out.push_back(make_outgoing(envelope.sender_endpoint,
                                PingAck{request.probe, piggyback(envelope.sender, false, false)}));
    return;
  }
  if (relays_.size() >= kMaxPendingRelays) relays_.erase(relays_.begin());  // The oldest probe number.
  const std::uint64_t number = next_probe_number_++;
  relays_[number] = Relay{request.target, envelope.sender, envelope.sender_endpoint, request.probe,
                          now_ms + options_.protocol_period_ms};
  out.push_back(make_ping(request.target_endpoint, request.target, number));
}

// ---- Timers ----

// The end of a protocol period: a target that acked neither directly nor through a helper is suspected.
// The suspicion also goes straight to the suspect (Lifeguard's "buddy system"): if it is alive after all,
// it refutes at once instead of when the gossip happens to reach it.
void Membership::finish_probe(std::uint64_t now_ms, Outbox& out) {
  if (!probe_) return;
  const Probe probe = *probe_;
  probe_.reset();
  // Lifeguard also counts an unanswered probe against our own health when the helpers did not even
  // nack; our wire has no nack, so an unanswered probe cannot tell whose fault it was, and counts
  // against nobody (a healthy peer keeps SWIM's timing for a truly dead member).
  if (probe.acked) {
    adjust_health(-1);
    return;
  }
  auto it = members_.find(probe.target);
  if (it == members_.end()) return;
  if (it->second.status == MemberStatus::kSuspect) {
    // Our own probe failed too: an independent confirmation, which the others count as well.
    auto suspicion = suspicions_.find(probe.target);
    if (suspicion != suspicions_.end() && suspicion->second.confirmers.insert(self_).second) {
      const Member& member = it->second;
      queue_gossip(MemberUpdate{member.id, member.endpoint, member.status, member.incarnation, self_});
    }
    return;
  }
  if (it->second.status != MemberStatus::kAlive) return;
  set_status(it->second, MemberStatus::kSuspect, it->second.incarnation, now_ms, true);
  ++stats_.suspicions;
  out.push_back(make_ping(it->second.endpoint, probe.target, next_probe_number_++));
}

void Membership::start_probe(std::uint64_t now_ms, Outbox& out) {
  const std::optional<PeerId> target = next_probe_target();
  if (!target) return;
  const std::uint64_t number = next_probe_number_++;
  out.push_back(make_ping(members_.at(*target).endpoint, *target, number));
  probe_ = Probe{*target, number, now_ms, false, false};
}

void Membership::send_indirect_probes(Outbox& out) {
  probe_->indirect_sent = true;
  auto target = members_.find(probe_->target);
  if (target == members_.end() || !is_reachable(target->second.status)) return;  // Dead or left meanwhile.
  std::vector<PeerId> helpers;
  for (const auto& [id, member] : members_) {
    if (id != probe_->target && member.status == MemberStatus::kAlive) helpers.push_back(id);
  }
  const auto count = static_cast<std::size_t>(std::max(options_.indirect_probes, 0));
  for (PeerId helper : pick_random(std::move(helpers), count)) {
    PingRequest request{probe_->number, probe_->target, target->second.endpoint,
                        piggyback(helper, !heard_from_.contains(helper), false)};
    out.push_back(make_outgoing(members_.at(helper).endpoint, std::move(request)));
    ++stats_.indirect_probes_sent;
  }
}

void Membership::expire_suspicions(std::uint64_t now_ms) {
  std::vector<PeerId> expired;
  for (const auto& [id, suspicion] : suspicions_) {
    if (now_ms >= suspicion_deadline_ms(suspicion)) expired.push_back(id);
  }
  for (PeerId id : expired) {
    Member& member = members_.at(id);
    set_status(member, MemberStatus::kDead, member.incarnation, now_ms, true);
    ++stats_.deaths;
  }
}

// Lifeguard's dynamic suspicion timeout: from max = suspicion_max_multiplier x timeout with only the
// accuser, down to the timeout itself once indirect_probes further accusers confirmed it:
// max - (max - min) * log(C + 1) / log(K + 1) for C confirmations beyond the first, K expected.
std::uint64_t Membership::suspicion_deadline_ms(const Suspicion& suspicion) const {
  const double min = static_cast<double>(suspicion.timeout_ms);
  const double max = min * static_cast<double>(std::max(options_.suspicion_max_multiplier, 1));
  // As memberlist does: in a cluster too small for the expected confirmations to exist (besides us,
  // the suspect and the accuser), a suspicion cannot shrink, so it takes the shortest timeout at once.
  const std::size_t others = reachable_count() > 1 ? reachable_count() - 1 : 0;
  const auto wanted = static_cast<std::size_t>(std::max(options_.indirect_probes, 1));
  if (others < wanted) return suspicion.started_ms + suspicion.timeout_ms;
  const double expected = static_cast<double>(wanted);
  const double confirmations =
      std::min(static_cast<double>(suspicion.confirmers.size()) - 1.0, expected);
  const double timeout = max - (max - min) * std::log(confirmations + 1.0) / std::log(expected + 1.0);
  return suspicion.started_ms + static_cast<std::uint64_t>(std::max(timeout, min));
}

void Membership::confirm_suspicion(PeerId suspect, PeerId from) {
  auto it = suspicions_.find(suspect);
  if (it == suspicions_.end() || from.value == 0 || from == suspect) return;
  if (it->second.confirmers.insert(from).second) ++stats_.suspicion_confirmations;
}

void Membership::adjust_health(int delta) {
  local_health_ = std::clamp(local_health_ + delta, 0, std::max(options_.max_local_health, 0));
}

// A tick a whole protocol period late: this process did not run (a stall, a swap storm, a debugger).
// Whatever it concluded now from the silence would be its own fault: the probe in flight is dropped
// unjudged, and the suspicions it holds are extended by the gap, since it could not have heard their
// refutations. Its local health worsens, so it probes and suspects more slowly for a while.
void Membership::note_stall(std::uint64_t now_ms) {
  const std::uint64_t last_ms = std::exchange(last_tick_ms_, now_ms);
  if (options_.max_local_health <= 0 || last_ms == 0 || now_ms <= last_ms + options_.protocol_period_ms) return;
  const std::uint64_t gap_ms = now_ms - last_ms;
  ++stats_.stalls;
  adjust_health(+2);
  if (probe_ && !probe_->acked) probe_.reset();
  next_period_ms_ = now_ms + options_.protocol_period_ms * health_multiplier();
  for (auto& [id, suspicion] : suspicions_) suspicion.started_ms += gap_ms;
}

// Forgets dead and departed members forget_dead_after_ms after they died or left (checked once a period).
void Membership::forget_old_dead(std::uint64_t now_ms) {
  if (options_.forget_dead_after_ms == 0 || now_ms < next_forget_check_ms_) return;
  next_forget_check_ms_ = now_ms + options_.protocol_period_ms;
  if (status_count_[static_cast<std::size_t>(MemberStatus::kDead)] +
          status_count_[static_cast<std::size_t>(MemberStatus::kLeft)] ==
      0) {
    return;
  }
  std::vector<PeerId> old;
  for (const auto& [id, member] : members_) {
    if (!is_reachable(member.status) && now_ms >= member.status_since_ms + options_.forget_dead_after_ms) {
      old.push_back(id);
    }
  }
  for (PeerId id : old) {
    forget(id);
    ++stats_.forgotten_dead;
  }
}

// The table is full and a new member arrives: forget the member dead or departed the longest. False
// when every member is alive or suspect (then the newcomer is ignored and counted).
bool Membership::make_room() {
  const Member* oldest = nullptr;
  for (const auto& [id, member] : members_) {
    if (!is_reachable(member.status) && (!oldest || member.status_since_ms < oldest->status_since_ms)) {
      oldest = &member;
    }
  }
  if (!oldest) return false;
  forget(oldest->id);
  ++stats_.forgotten_dead;
  return true;
}

void Membership::expire_relays(std::uint64_t now_ms) {
  std::erase_if(relays_, [now_ms](const auto& entry) { return entry.second.expires_ms <= now_ms; });
}

void Membership::rejoin_if_alone(std::uint64_t now_ms, Outbox& out) {
  if (seeds_.empty() || reachable_count() > 0) return;
  if (now_ms < last_seed_ping_ms_ + options_.rejoin_seed_interval_ms) return;
  ping_seeds(now_ms, out);
}

// A member declared dead may only have been cut off by a partition. SWIM never probes it again, so
// after the partition heals each side would keep the other dead for ever. One random dead member is
// pinged every dead_probe_interval_ms; the ping tells it we hold it dead, so a live one refutes with
// a higher incarnation and comes back into everyone's view (memberlist's "reconnect" does the same).
void Membership::probe_dead_member(std::uint64_t now_ms, Outbox& out) {
  if (options_.dead_probe_interval_ms == 0) return;
  if (next_dead_probe_ms_ == 0) next_dead_probe_ms_ = now_ms + options_.dead_probe_interval_ms;
  if (now_ms < next_dead_probe_ms_) return;
  next_dead_probe_ms_ = now_ms + options_.dead_probe_interval_ms;
  if (status_count_[static_cast<std::size_t>(MemberStatus::kDead)] == 0) return;
  std::vector<PeerId> dead;
  for (const auto& [id, member] : members_) {
    if (member.status == MemberStatus::kDead) dead.push_back(id);
  }
  if (dead.empty()) return;
  const PeerId target = dead[rng_.below(dead.size())];
  out.push_back(make_ping(members_.at(target).endpoint, target, next_probe_number_++, true));
}

// ---- Member selection ----

// The next member of a shuffled round-robin over alive and suspect members: every member is probed
// once per round, and a fresh shuffle starts the next round.
std::optional<PeerId> Membership::next_probe_target() {
  for (int round = 0; round < 2; ++round) {
    while (probe_index_ < probe_order_.size()) {
      const PeerId candidate = probe_order_[probe_index_++];
      auto it = members_.find(candidate);
      if (it != members_.end() && is_reachable(it->second.status)) return candidate;
    }
    probe_order_ = reachable_ids();
    probe_index_ = 0;
    for (std::size_t i = probe_order_.size(); i > 1; --i)
      std::swap(probe_order_[i - 1], probe_order_[rng_.below(i)]);
  }
  return std::nullopt;
}

// A new (or returning) member goes to a random place in the rest of the current round.
void Membership::schedule_probe(PeerId peer) {
  const auto rest = probe_order_.begin() + static_cast<std::ptrdiff_t>(probe_index_);
  if (std::find(rest, probe_order_.end(), peer) != probe_order_.end()) return;
  const std::size_t offset = rng_.below(probe_order_.size() - probe_index_ + 1);
  probe_order_.insert(rest + static_cast<std::ptrdiff_t>(offset), peer);
}

std::vector<PeerId> Membership::pick_random(std::vector<PeerId> candidates, std::size_t count) {
  count = std::min(count, candidates.size());
  for (std::size_t i = 0; i < count; ++i)
    std::swap(candidates[i], candidates[i + rng_.below(candidates.size() - i)]);
  candidates.resize(count);
  return candidates;
}

std::optional<PeerId> Membership::member_at(const Endpoint& endpoint) const {
  for (const auto& [id, member] : members_) {
    if (member.endpoint == endpoint) return id;
  }
  return std::nullopt;
}

std::vector<PeerId> Membership::reachable_ids() const {
  std::vector<PeerId> result;
  for (const auto& [id, member] : members_) {
    if (is_reachable(member.status)) result.push_back(id);
  }
  return result;
}

// Isolated: seeds to join through, or a member that did not leave (one that left did so on purpose),
// and yet nobody reachable. The moment it began is kept while it lasts.
void Membership::update_isolation(std::uint64_t now_ms) {
  const bool expects_company =
      !seeds_.empty() || std::any_of(members_.begin(), members_.end(), [](const auto& entry) {
        return entry.second.status != MemberStatus::kLeft;
      });
  if (!expects_company || reachable_count() > 0) {
    isolated_since_ms_.reset();
  } else if (!isolated_since_ms_) {
    isolated_since_ms_ = now_ms;
  }
}

std::size_t Membership::reachable_count() const {
  return status_count_[static_cast<std::size_t>(MemberStatus::kAlive)] +
         status_count_[static_cast<std::size_t>(MemberStatus::kSuspect)];
}

}  // namespace cairn::gossip
