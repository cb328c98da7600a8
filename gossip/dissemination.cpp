#include "gossip/dissemination.h"

#include <algorithm>
#include <utility>

namespace cairn::gossip {

Dissemination::Dissemination(PeerId self, Endpoint self_endpoint, std::uint64_t cluster_id, store::Replica& store,
                             DisseminationOptions options)
    : self_(self), self_endpoint_(std::move(self_endpoint)), cluster_id_(cluster_id), store_(store), options_(options) {}

Envelope Dissemination::envelope(Body body) const {
  return Envelope{cluster_id_, self_, self_endpoint_, std::move(body)};
}

void Dissemination::set_neighbours(const std::vector<Neighbour>& neighbours) {
  std::map<PeerId, NeighbourState> next;
  for (const Neighbour& neighbour : neighbours) {
    if (neighbour.id == self_) continue;
    auto existing = neighbours_.find(neighbour.id);
    NeighbourState state = existing != neighbours_.end() ? existing->second : NeighbourState{};
    state.endpoint = neighbour.endpoint;
    next.emplace(neighbour.id, std::move(state));
  }
  neighbours_ = std::move(next);
}

Outbox Dissemination::tick(std::uint64_t now_ms) {
  Outbox out;
  auto bounds = store_.delta_log_bounds();
  if (!bounds) {
    ++stats_.store_errors;
    return out;
  }
  // Entries holding own dots that wait for confirmation go nowhere yet (docs/store.md "Identity"):
  // pushes stop before the first of them, and acknowledgements, hence trimming, cannot pass it.
  std::uint64_t ship_through = bounds->last;
  if (const std::uint64_t held = store_.identity().held_from_sequence; held != 0) {
    ship_through = std::min(ship_through, held - 1);
  }
  for (auto& [id, state] : neighbours_) push_to(id, state, *bounds, ship_through, now_ms, out);
  trim_acknowledged(*bounds);
  return out;
}

void Dissemination::push_to(PeerId id, NeighbourState& state, const DeltaLogBounds& bounds,
                            std::uint64_t ship_through, std::uint64_t now_ms, Outbox& out) {
  const bool in_flight = state.push_through > state.acknowledged;
  if (in_flight) {
    if (now_ms < state.last_push_ms + options_.resend_after_ms) return;  // Wait for its ack.
    // Unacknowledged for too long: the push or its ack was lost. Send again from the acknowledged point.
    state.sent_through = state.acknowledged;
    state.push_through = state.acknowledged;
    ++stats_.resends;
  }

  if (state.sent_through >= ship_through) return;  // Nothing new for it (or nothing it may have yet).
  state.behind_trimmed_log = state.sent_through + 1 < bounds.first;
  if (state.behind_trimmed_log) {
    ++stats_.neighbours_behind_trimmed_log;
    return;  // The entries it needs are gone; anti-entropy must catch it up.
  }

  auto entries = store_.deltas_since(state.sent_through, options_.max_entries_per_push);
  if (!entries) {
    ++stats_.store_errors;
    return;
  }
  DeltaPush push;
  std::size_t bytes = 0;
  std::uint64_t through = state.sent_through;
  for (LoggedDelta& entry : *entries) {
    if (entry.sequence > ship_through) break;
    if (!push.entries.empty() && bytes + entry.bytes.size() > options_.max_bytes_per_push) break;
    through = entry.sequence;
    if (entry.origin == id.value) continue;  // Never send a neighbour what came from it.
    bytes += entry.bytes.size();
    push.entries.push_back(DeltaPush::Entry{entry.sequence, std::move(entry.bytes)});
  }
  state.sent_through = through;
  if (push.entries.empty()) {
    // Everything in range came from this neighbour: nothing to send, and nothing it lacks. If no push
    // is in flight, that counts as acknowledged, so the log can still be trimmed.
    if (state.push_through <= state.acknowledged) state.acknowledged = through;
    return;
  }
  state.push_last_entry = push.entries.back().sequence;
  state.push_through = through;
  state.last_push_ms = now_ms;
  ++stats_.pushes_sent;
  stats_.entries_sent += push.entries.size();
  stats_.bytes_sent += bytes;
  out.push_back(Outgoing{state.endpoint, Channel::kStream, envelope(std::move(push))});
}

Outbox Dissemination::on_message(const Envelope& message, std::uint64_t now_ms) {
  (void)now_ms;
  Outbox out;
  if (const auto* push = std::get_if<DeltaPush>(&message.body)) {
    ++stats_.pushes_received;
    std::uint64_t& merged = merged_through_[message.sender];
    std::uint64_t last = 0;
    // The entries not merged yet, merged in one store transaction (one commit for the whole push).
    std::vector<DeltaToMerge> fresh;
    std::vector<std::uint64_t> sequences;
    for (const DeltaPush::Entry& entry : push->entries) {
      ++stats_.entries_received;
      stats_.bytes_received += entry.delta_group.size();
      last = entry.sequence;
      if (entry.sequence <= std::max(merged, sequences.empty() ? 0 : sequences.back())) continue;  // A resend.
      fresh.push_back(DeltaToMerge{entry.delta_group, message.sender.value});
      sequences.push_back(entry.sequence);
    }
    auto outcomes = fresh.empty() ? Result<std::vector<Result<MergeOutcome>>>{} : store_.merge_deltas(fresh);
    if (!outcomes) {
      // The store could not take them (I/O, map full): do not acknowledge, so they come again.
      ++stats_.store_errors;
    } else {
      for (std::size_t i = 0; i < outcomes->size(); ++i) {
        const Result<MergeOutcome>& outcome = (*outcomes)[i];
        if (!outcome) {
          ++stats_.entries_rejected;  // It will never merge; acknowledging lets the sender move on.
        } else if (outcome->changed) {
          ++stats_.entries_new;
        }
        merged = sequences[i];
      }
    }
    // Acknowledge the last entry merged (or already merged) in this push.
    const std::uint64_t acknowledged = std::min(last, merged);
    if (acknowledged > 0) out.push_back(Outgoing{message.sender_endpoint, Channel::kStream, envelope(DeltaAck{acknowledged})});
  } else if (const auto* ack = std::get_if<DeltaAck>(&message.body)) {
    auto it = neighbours_.find(message.sender);
    if (it == neighbours_.end()) return out;
    NeighbourState& state = it->second;
    // The ack of a push's last entry covers the whole push, including entries skipped as the
    // neighbour's own.
    std::uint64_t covered = ack->sequence;
    if (ack->sequence == state.push_last_entry) covered = std::max(covered, state.push_through);
    if (covered > state.sent_through) covered = state.sent_through;  // Never trust an ack for unsent entries.
    state.acknowledged = std::max(state.acknowledged, covered);
  }
  return out;
}

void Dissemination::trim_acknowledged(const DeltaLogBounds& bounds) {
  if (neighbours_.empty()) return;  // Alone: keep the log for whoever comes.
  std::uint64_t everyone_has = UINT64_MAX;
  for (const auto& [id, state] : neighbours_) everyone_has = std::min(everyone_has, state.acknowledged);
  if (everyone_has == 0 || bounds.first > everyone_has) return;
  if (!store_.trim_delta_log(everyone_has)) ++stats_.store_errors;
}

void Dissemination::caught_up(PeerId neighbour, std::uint64_t through_sequence) {
  auto it = neighbours_.find(neighbour);
  if (it == neighbours_.end()) return;
  NeighbourState& state = it->second;
  state.behind_trimmed_log = false;
  if (through_sequence <= state.acknowledged) return;
  state.acknowledged = through_sequence;
  // A push in flight below this point needs no answer any more.
  state.sent_through = std::max(state.sent_through, through_sequence);
  state.push_through = std::max(state.push_through, through_sequence);
  if (state.push_through <= through_sequence) state.push_last_entry = 0;
}

std::map<PeerId, std::uint64_t> Dissemination::acknowledged() const {
  std::map<PeerId, std::uint64_t> result;
  for (const auto& [id, state] : neighbours_) result.emplace(id, state.acknowledged);
  return result;
}

std::vector<PeerId> Dissemination::neighbours_needing_anti_entropy() const {
  std::vector<PeerId> result;
  for (const auto& [id, state] : neighbours_) {
    if (state.behind_trimmed_log) result.push_back(id);
  }
  return result;
}

}  // namespace cairn::gossip
