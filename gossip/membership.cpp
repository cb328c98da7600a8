// The SWIM membership state machine; the protocol is described in membership.h. This file holds the
// public entry points, message construction and applying what is heard; membership_probing.cpp holds
// the failure detector (the message handlers, the probe timers and picking whom to probe).
//
// Everything that leaves this file is decided by the inputs and the seeded Rng: containers are ordered
// and iterated in order, and time is only ever the caller's now_ms.
#include "gossip/membership.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <iterator>
#include <utility>
#include <variant>

#include "gossip/wire.h"

namespace cairn::gossip {
namespace {

// Rough encoded sizes (Cap'n Proto, unpacked, with room to spare), used only to keep piggybacked
// updates within one datagram of kMaxDatagramBytes.
constexpr std::size_t kEnvelopeOverheadBytes = 128;  // Envelope and body structs, list headers.
constexpr std::size_t kUpdateOverheadBytes = 64;     // One MemberUpdate, without its host text.

// The wire drops a message with more updates than gossip::kMaxUpdatesPerMessage.
static_assert(Membership::kMaxJoinAckUpdates <= kMaxUpdatesPerMessage);

std::size_t estimated_bytes(const MemberUpdate& update) {
  return kUpdateOverheadBytes + update.endpoint.host.size();
}

bool is_known_status(MemberStatus status) {
  return static_cast<std::uint8_t>(status) <= static_cast<std::uint8_t>(MemberStatus::kLeft);
}

// SWIM's precedence: the higher incarnation wins; at equal incarnation alive < suspect < dead < left.
bool overrides(const MemberUpdate& update, const Member& member) {
  if (update.incarnation != member.incarnation) return update.incarnation > member.incarnation;
  return update.status > member.status;
}

MemberUpdate to_update(const Member& member) {
  return MemberUpdate{member.id, member.endpoint, member.status, member.incarnation};
}

}  // namespace

// The updates of one outgoing message: each member at most once, within the datagram's byte budget.
struct Membership::Piggyback {
  std::vector<MemberUpdate> updates;
  std::set<PeerId> included;
  std::size_t budget_bytes = 0;

  bool add(const MemberUpdate& update) {
    const std::size_t size = estimated_bytes(update);
    if (updates.size() >= kMaxUpdatesPerMessage || included.contains(update.id) || size > budget_bytes) {
      return false;
    }
    budget_bytes -= size;
    included.insert(update.id);
    updates.push_back(update);
    return true;
  }
};

Membership::Membership(PeerId self, Endpoint self_endpoint, std::uint64_t cluster_id,
                       MembershipOptions options, std::uint64_t random_seed)
    : self_(self),
      self_endpoint_(std::move(self_endpoint)),
      cluster_id_(cluster_id),
      options_(options),
      rng_(random_seed) {}

// ---- Public entry points ----

void Membership::restore(const std::vector<MemberUpdate>& remembered, std::uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  for (const MemberUpdate& update : remembered) {
    if (update.id == self_) {
      incarnation_ = std::max(incarnation_, update.incarnation);
      continue;
    }
    // A retired replica stays forgotten even though the peers table still remembers it.
    if (members_.contains(update.id) || retired_.contains(update.id)) continue;
    if (table_full()) {
      ++stats_.ignored_full_table;
      continue;
    }
    // Alive at the remembered incarnation: a death or departure the cluster recorded at that
    // incarnation still overrides it when we hear of it.
    insert_member(Member{update.id, update.endpoint, MemberStatus::kAlive, update.incarnation, now_ms, 0});
    schedule_probe(update.id);
  }
}

Outbox Membership::join(const std::vector<Endpoint>& seeds, std::uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  Outbox out;
  if (left_) return out;
  seeds_.clear();
  for (const Endpoint& seed : seeds) {
    if (seed == self_endpoint_ || std::find(seeds_.begin(), seeds_.end(), seed) != seeds_.end()) continue;
    seeds_.push_back(seed);
  }
  update_isolation(now_ms);
  ping_seeds(now_ms, out);
  return out;
}

Outbox Membership::tick(std::uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  Outbox out;
  if (left_) return out;
  note_stall(now_ms);
  forget_old_dead(now_ms);
  expire_relays(now_ms);
  expire_suspicions(now_ms);
  update_isolation(now_ms);
  rejoin_if_alone(now_ms, out);
  probe_dead_member(now_ms, out);
  if (probe_ && !probe_->acked && !probe_->indirect_sent &&
      now_ms >= probe_->sent_ms + options_.ping_timeout_ms * health_multiplier()) {
    send_indirect_probes(out);
  }
  if (now_ms >= next_period_ms_) {
    finish_probe(now_ms, out);
    start_probe(now_ms, out);
    // Keep the period's phase when ticks are on time; restart it after a long gap.
    const std::uint64_t period_ms = options_.protocol_period_ms * health_multiplier();
    const std::uint64_t next = next_period_ms_ + period_ms;
    next_period_ms_ = next > now_ms ? next : now_ms + period_ms;
  }
  return out;
}

Outbox Membership::on_message(const Envelope& envelope, std::uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  Outbox out;
  if (envelope.cluster_id != cluster_id_) {
    ++stats_.other_cluster;
    return out;
  }
  if (envelope.sender == self_ || retired_.contains(envelope.sender)) return out;
  corrections_.clear();
  if (left_) {
    // Whoever still probes us learns that we left; nothing else is processed any more.
    if (const auto* ping = std::get_if<Ping>(&envelope.body)) {
      out.push_back(make_outgoing(envelope.sender_endpoint, PingAck{ping->probe, {self_update()}}));
    }
    return out;
  }
  if (const auto* ping = std::get_if<Ping>(&envelope.body)) {
    on_ping(envelope, *ping, now_ms, out);
  } else if (const auto* ack = std::get_if<PingAck>(&envelope.body)) {
    on_ack(envelope, *ack, now_ms, out);
  } else if (const auto* request = std::get_if<PingRequest>(&envelope.body)) {
    on_ping_request(envelope, *request, now_ms, out);
  }
  if (refuted_) {
    // A suspicion of us is spreading: do not wait for our next probe to contradict it. A pinging
    // sender already has the refutation in our reply.
    refuted_ = false;
    const bool replied = !std::holds_alternative<PingAck>(envelope.body);
    announce_self(replied ? std::optional<PeerId>(envelope.sender) : std::nullopt, out);
  }
  if (isolated_since_ms_) update_isolation(now_ms);  // The first answer ends isolation at once.
  return out;
}

Outbox Membership::leave(std::uint64_t /*now_ms*/) {
  std::lock_guard lock(mutex_);
  Outbox out;
  if (left_) return out;
  left_ = true;
  isolated_since_ms_.reset();
  ++incarnation_;
  probe_.reset();
  relays_.clear();
  queue_gossip(self_update());
  announce_self(std::nullopt, out);
  return out;
}

void Membership::retire(PeerId peer) {
  std::lock_guard lock(mutex_);
  if (peer == self_) return;
  retired_.insert(peer);
  forget(peer);
}

// Removes every trace of `peer` but the retired_ set (retire() keeps that; a forgotten dead member may
// come back as new).
void Membership::forget(PeerId peer) {
  if (auto it = members_.find(peer); it != members_.end()) erase_member(it);
  gossip_.erase(peer);
  heard_from_.erase(peer);
  std::erase(probe_order_, peer);
  probe_index_ = std::min(probe_index_, probe_order_.size());
  if (probe_ && probe_->target == peer) probe_.reset();
  std::erase_if(relays_, [&](const auto& relay) { return relay.second.target == peer || relay.second.requester == peer; });
}

bool Membership::is_retired(PeerId peer) const {
  std::lock_guard lock(mutex_);
  return retired_.contains(peer);
}

std::map<PeerId, Member> Membership::members() const {
  std::lock_guard lock(mutex_);
  return members_;
}

std::vector<PeerId> Membership::reachable_members() const {
  std::lock_guard lock(mutex_);
  return reachable_ids();
}

std::uint64_t Membership::reachable_version() const {
  std::lock_guard lock(mutex_);
  return reachable_version_;
}

std::size_t Membership::count_with_status(MemberStatus status) const {
  std::lock_guard lock(mutex_);
  const auto index = static_cast<std::size_t>(status);
  return index < status_count_.size() ? status_count_[index] : 0;
}

std::optional<Endpoint> Membership::endpoint_of(PeerId peer) const {
  std::lock_guard lock(mutex_);
  auto it = members_.find(peer);
  if (it == members_.end()) return std::nullopt;
  return it->second.endpoint;
}

std::optional<std::uint64_t> Membership::isolated_since_ms() const {
  std::lock_guard lock(mutex_);
  return isolated_since_ms_;
}

std::vector<Endpoint> Membership::seeds() const {
  std::lock_guard lock(mutex_);
  return seeds_;
}

std::vector<MemberUpdate> Membership::take_changes() {
  std::lock_guard lock(mutex_);
  return std::exchange(changes_, {});
}

std::uint64_t Membership::incarnation() const {
  std::lock_guard lock(mutex_);
  return incarnation_;
}

MembershipStats Membership::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

int Membership::local_health() const {
  std::lock_guard lock(mutex_);
  return local_health_;
}

// ---- Message construction ----

Outgoing Membership::make_outgoing(const Endpoint& to, Body body) const {
  return Outgoing{to, Channel::kDatagram, Envelope{cluster_id_, self_, self_endpoint_, std::move(body)}};
}

// A ping carries our own record whenever the recipient may not know us yet, so it learns our incarnation.
Outgoing Membership::make_ping(const Endpoint& to, std::optional<PeerId> recipient, std::uint64_t probe,
                               bool include_self, const std::vector<MemberUpdate>& notices) {
  include_self = include_self || !recipient || !heard_from_.contains(*recipient);
  ++stats_.pings_sent;
  return make_outgoing(to, Ping{probe, piggyback(recipient, include_self, false, notices)});
}

// Sends our own record (a departure or a refutation) directly to a few random alive members.
void Membership::announce_self(std::optional<PeerId> except, Outbox& out) {
  std::vector<PeerId> alive;
  for (const auto& [id, member] : members_) {
    if (member.status == MemberStatus::kAlive && id != except) alive.push_back(id);
  }
  for (PeerId peer : pick_random(std::move(alive), kAnnounceFanout)) {
    out.push_back(make_ping(members_.at(peer).endpoint, peer, next_probe_number_++, true));
  }
}

// Builds the updates of one message to `recipient`: our own record if asked; the `notices`; the
// recipient's own record when we hold it suspect, dead or left (so it can refute at once, as in
// Lifeguard's "buddy system"); then the queued gossip, least sent and newest first, up to
// piggyback_limit. A joining peer's ack is then filled up with the members we know, up to
// kMaxJoinAckUpdates, so that it learns the cluster in one round trip. Everything stays within one
// datagram (an estimate of the encoded size; the tests check it against gossip/wire.h).
std::vector<MemberUpdate> Membership::piggyback(std::optional<PeerId> recipient, bool include_self,
                                                bool join_dump, const std::vector<MemberUpdate>& notices) {
  Piggyback message;
  const std::size_t overhead = kFrameHeaderBytes + kSealOverheadBytes + kEnvelopeOverheadBytes + self_endpoint_.host.size();
  message.budget_bytes = kMaxDatagramBytes > overhead ? kMaxDatagramBytes - overhead : 0;
  if (include_self || join_dump) message.add(self_update());
  for (const MemberUpdate& notice : notices) message.add(notice);
  if (recipient) {
    auto it = members_.find(*recipient);
    if (it != members_.end() && it->second.status != MemberStatus::kAlive) message.add(to_update(it->second));
  }
  add_gossip(message);
  if (join_dump) add_join_dump(message);
  return std::move(message.updates);
}

void Membership::add_gossip(Piggyback& message) {
  const auto limit = static_cast<std::size_t>(std::max(options_.piggyback_limit, 0));
  if (gossip_.empty() || message.updates.size() >= limit) return;
  std::vector<std::map<PeerId, Gossip>::iterator> order;
  order.reserve(gossip_.size());
  for (auto it = gossip_.begin(); it != gossip_.end(); ++it) order.push_back(it);
  // Only the first few can go: sorting all of them cost O(G log G) per message while a large cluster
  // joined. Those already in the message (at most one each) may be skipped, hence the extra room.
  const std::size_t wanted = std::min(order.size(), limit + message.included.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(wanted), order.end(),
                    [](const auto& a, const auto& b) {
                      if (a->second.transmissions != b->second.transmissions) {
                        return a->second.transmissions < b->second.transmissions;
                      }
                      return a->second.sequence > b->second.sequence;
                    });
  order.resize(wanted);
  const int retransmissions = retransmit_limit();
  for (auto it : order) {
    if (message.updates.size() >= limit) break;
    if (!message.add(it->second.update)) continue;
    if (++it->second.transmissions >= retransmissions) gossip_.erase(it);  // Other iterators stay valid.
  }
}

void Membership::add_join_dump(Piggyback& message) {
  std::vector<const Member*> known;
  for (const auto& [id, member] : members_) {
    if (is_reachable(member.status)) known.push_back(&member);
  }
  if (known.empty()) return;
  // Start at a random member so that, when not all fit, different joiners learn different ones.
  const std::size_t start = rng_.below(known.size());
  for (std::size_t i = 0; i < known.size() && message.updates.size() < kMaxJoinAckUpdates; ++i) {
    message.add(to_update(*known[(start + i) % known.size()]));
  }
}

MemberUpdate Membership::self_update() const {
  return MemberUpdate{self_, self_endpoint_, left_ ? MemberStatus::kLeft : MemberStatus::kAlive,
                      incarnation_};
}

void Membership::queue_gossip(const MemberUpdate& update) {
  gossip_[update.id] = Gossip{update, 0, ++gossip_sequence_};
}

// multiplier * ceil(log2(N + 1)) for a cluster of N peers (us included); ceil(log2(N + 1)) is
// bit_width(N).
Member& Membership::insert_member(const Member& member) {
  auto [it, inserted] = members_.emplace(member.id, member);
  if (inserted) {
    count_status(member.status, +1);
    if (is_reachable(member.status)) ++reachable_version_;
  }
  return it->second;
}

void Membership::erase_member(std::map<PeerId, Member>::iterator it) {
  count_status(it->second.status, -1);
  if (is_reachable(it->second.status)) ++reachable_version_;
  suspicions_.erase(it->first);
  members_.erase(it);
}

void Membership::count_status(MemberStatus status, int delta) {
  const auto index = static_cast<std::size_t>(status);
  if (index >= status_count_.size()) return;
  status_count_[index] = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(status_count_[index]) + delta);
}

int Membership::retransmit_limit() const {
  const auto cluster_size = static_cast<std::uint64_t>(reachable_count()) + 1;
  return std::max(options_.retransmit_multiplier, 1) * static_cast<int>(std::bit_width(cluster_size));
}

void Membership::ping_seeds(std::uint64_t now_ms, Outbox& out) {
  last_seed_ping_ms_ = now_ms;
  for (const Endpoint& seed : seeds_) out.push_back(make_ping(seed, member_at(seed), next_probe_number_++));
}

// ---- Applying what we hear ----

void Membership::apply(const std::vector<MemberUpdate>& updates, PeerId from, std::uint64_t now_ms) {
  const std::size_t count = std::min(updates.size(), kMaxUpdatesPerMessage);  // gossip/wire.h's limit.
  for (std::size_t i = 0; i < count; ++i) {
    if (is_known_status(updates[i].status)) apply_one(updates[i], from, now_ms);
  }
}

void Membership::apply_one(const MemberUpdate& update, PeerId from, std::uint64_t now_ms) {
  if (update.id == self_) {
    apply_about_self(update);
    return;
  }
  if (retired_.contains(update.id)) return;
  const PeerId accuser = update.accuser.value != 0 ? update.accuser : from;
  auto it = members_.find(update.id);
  if (it == members_.end()) {
    if (table_full() && !make_room()) {
      ++stats_.ignored_full_table;
      return;
    }
    Member& member =
        insert_member(Member{update.id, update.endpoint, update.status, update.incarnation, now_ms, 0});
    if (member.status == MemberStatus::kSuspect) {
      // First heard of as suspect: its suspicion runs from now, like one that arrives for a known member.
      Suspicion suspicion;
      suspicion.accuser = accuser;
      suspicion.confirmers.insert(accuser);
      suspicion.started_ms = now_ms;
      suspicion.timeout_ms = options_.suspicion_timeout_ms;
      suspicions_[member.id] = std::move(suspicion);
    }
    record_change(member, true);
    if (is_reachable(member.status)) schedule_probe(member.id);
    return;
  }
  if (update.status == MemberStatus::kSuspect && it->second.status == MemberStatus::kSuspect &&
      update.incarnation == it->second.incarnation) {
    confirm_suspicion(update.id, accuser);
    return;
  }
  if (!overrides(update, it->second)) {
    if (update.incarnation != it->second.incarnation || update.status != it->second.status) {
      add_correction(to_update(it->second));
    }
    return;
  }
  if (it->second.endpoint != update.endpoint) {
    it->second.endpoint = update.endpoint;
    ++reachable_version_;
  }
  set_status(it->second, update.status, update.incarnation, now_ms, true,
             update.status == MemberStatus::kSuspect ? std::optional<PeerId>(accuser) : std::nullopt);
}

void Membership::add_correction(const MemberUpdate& update) {
  if (corrections_.size() < static_cast<std::size_t>(std::max(options_.piggyback_limit, 0))) {
    corrections_.push_back(update);
  }
}

// Only this peer may announce itself alive at a new incarnation: that is how it refutes a suspicion
// (or a death, after a restart) that names an incarnation at least its own.
void Membership::apply_about_self(const MemberUpdate& update) {
  if (left_) return;
  if (update.status == MemberStatus::kAlive) {
    if (update.incarnation < incarnation_) add_correction(self_update());
    incarnation_ = std::max(incarnation_, update.incarnation);
    return;
  }
  if (update.incarnation < incarnation_) {
    add_correction(self_update());
    return;
  }
  incarnation_ = update.incarnation + 1;
  queue_gossip(self_update());
  refuted_ = true;
  ++stats_.refutations;
  adjust_health(+1);  // Lifeguard: being suspected hints that we are the slow one.
}

// A direct message proves the sender exists: an unknown sender joins the table as alive (its own
// record among the updates, applied before this, gave its incarnation).
void Membership::note_sender(const Envelope& envelope, std::uint64_t now_ms) {
  auto it = members_.find(envelope.sender);
  if (it == members_.end()) {
    if (table_full() && !make_room()) {
      ++stats_.ignored_full_table;
      return;
    }
    it = members_.find(
        insert_member(Member{envelope.sender, envelope.sender_endpoint, MemberStatus::kAlive, 0, now_ms, now_ms}).id);
    record_change(it->second, true);
    schedule_probe(envelope.sender);
  } else if (it->second.endpoint != envelope.sender_endpoint && is_reachable(it->second.status)) {
    it->second.endpoint = envelope.sender_endpoint;
    ++reachable_version_;
    record_change(it->second, false);
  }
  it->second.last_heard_ms = now_ms;
  heard_from_.insert(envelope.sender);
}

// An ack from a suspect clears our suspicion locally, so we will not declare it dead; but only its own
// refutation (a higher incarnation) clears the suspicion the others heard. An ack that carried no
// refutation means it has not heard of the suspicion yet, so we tell it directly. The suspicion we
// queued keeps spreading until the refutation replaces it: whoever heard it needs the refutation.
void Membership::confirm_alive(PeerId peer, std::uint64_t now_ms, Outbox& out) {
  auto it = members_.find(peer);
  if (it == members_.end() || it->second.status != MemberStatus::kSuspect) return;
  const MemberUpdate suspicion = to_update(it->second);
  set_status(it->second, MemberStatus::kAlive, it->second.incarnation, now_ms, false);
  out.push_back(make_ping(it->second.endpoint, peer, next_probe_number_++, false, {suspicion}));
}

void Membership::set_status(Member& member, MemberStatus status, std::uint64_t incarnation,
                            std::uint64_t now_ms, bool disseminate, std::optional<PeerId> suspected_by) {
  const bool was_reachable = is_reachable(member.status);
  if (status == MemberStatus::kSuspect) {
    // A new suspicion (or one at a new incarnation). One we raise ourselves waits longer the less
    // healthy we are; every suspicion starts at its longest and shrinks with confirmations.
    Suspicion suspicion;
    suspicion.started_ms = now_ms;
    suspicion.timeout_ms = options_.suspicion_timeout_ms * (suspected_by ? 1 : health_multiplier());
    suspicion.accuser = suspected_by.value_or(self_);
    suspicion.confirmers.insert(suspicion.accuser);
    suspicions_[member.id] = std::move(suspicion);
  } else {
    suspicions_.erase(member.id);
  }
  // A suspicion at a new incarnation is a new suspicion: its timeout starts again.
  if (status != member.status || status == MemberStatus::kSuspect) member.status_since_ms = now_ms;
  count_status(member.status, -1);
  count_status(status, +1);
  if (was_reachable != is_reachable(status)) ++reachable_version_;
  member.status = status;
  member.incarnation = incarnation;
  record_change(member, disseminate);
  if (!was_reachable && is_reachable(status)) schedule_probe(member.id);
}

void Membership::record_change(const Member& member, bool disseminate) {
  if (changes_.size() >= kMaxPendingChanges) {
    changes_.erase(changes_.begin(), changes_.begin() + static_cast<std::ptrdiff_t>(changes_.size() / 2));
  }
  MemberUpdate update = to_update(member);
  if (auto suspicion = suspicions_.find(member.id); suspicion != suspicions_.end()) {
    update.accuser = suspicion->second.accuser;
  }
  changes_.push_back(to_update(member));  // The record kept and logged; the accuser only travels.
  if (disseminate) queue_gossip(update);
}

}  // namespace cairn::gossip
