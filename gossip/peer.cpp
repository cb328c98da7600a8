#include "gossip/peer.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <utility>

namespace cairn::gossip {

Peer::Peer(Endpoint self_endpoint, store::Replica& store, std::vector<Endpoint> seeds, PeerOptions options,
           std::uint64_t random_seed)
    : endpoint_(std::move(self_endpoint)),
      seeds_(std::move(seeds)),
      options_(std::move(options)),
      cluster_id_(cluster_id_of(options_.cluster_name)),
      store_(store),
      partition_count_(store.partition_count()),
      random_seed_(random_seed),
      ring_(options_.ring) {
  assert((options_.security.insecure || !options_.security.cluster_keys.empty()) &&
         "a secure peer needs a cluster key");
  if (!options_.security.cluster_keys.empty()) sealer_.emplace(options_.security.cluster_keys);
  // Before anything can be shipped: own dots minted from now on wait for the members' confirmation
  // that no other copy of this store minted them (docs/store.md "Identity").
  if (!store_.start_identity_check()) ++stats_.store_errors;
  build_machines();
}

bool Peer::identity_changed() const {
  return stability_->reincarnated() || store_.replica_id() != membership_->self().value;
}

void Peer::build_machines() {
  std::lock_guard lane(membership_lane_mutex_);  // The membership lane must not see membership_ replaced.
  starting_over_ = false;
  const PeerId self{store_.replica_id()};
  const std::uint64_t seed = random_seed_ ^ (reincarnations_ * 0xbf58476d1ce4e5b9ULL);
  membership_.emplace(self, endpoint_, cluster_id_, options_.membership, seed);
  dissemination_.emplace(self, endpoint_, cluster_id_, store_, options_.dissemination);
  anti_entropy_.emplace(self, endpoint_, cluster_id_, store_, options_.anti_entropy, seed ^ 0x9e3779b97f4a7c15ULL);
  stability_.emplace(self, endpoint_, cluster_id_, store_, options_.stability);
  stability_->start(*membership_);
  neighbours_.clear();
  reachable_before_.clear();
  ring_version_.reset();  // The new Membership counts its versions from 0 again.
  reachable_before_version_.reset();
  rounds_in_sync_seen_ = 0;
}

std::vector<OutgoingFrame> Peer::start_over(std::uint64_t now_ms) {
  // An id the cluster retired is forgotten by every member already. One this peer gave up (another
  // copy minted under it) is announced as left, or the members would keep probing it at this
  // endpoint, where this peer answers under its new id, and never see it gone (nor retire it).
  // Another copy still running under it refutes that, as any live member refutes a false report.
  std::vector<OutgoingFrame> frames;
  if (!stability_->reincarnated()) frames = frames_of(membership_->leave(now_ms));
  ++reincarnations_;
  build_machines();
  std::vector<OutgoingFrame> joined = start(now_ms);
  frames.insert(frames.end(), std::make_move_iterator(joined.begin()), std::make_move_iterator(joined.end()));
  return frames;
}

void Peer::finish_rounds(std::uint64_t now_ms) {
  const std::vector<std::pair<PeerId, std::uint64_t>> completed = anti_entropy_->take_completed();
  for (const auto& [peer, through] : completed) dissemination_->caught_up(peer, through);
  const std::uint64_t in_sync = anti_entropy_->stats().rounds_in_sync;
  if (in_sync != rounds_in_sync_seen_) {
    rounds_in_sync_seen_ = in_sync;
    // Refilled from a peer: the set-aside writes can be re-issued against the cluster's state (counter
    // increments beyond what it kept, register values that still win). The store issues nothing until
    // it holds every kept dot of the old id (the peer may itself have been behind); a later round retries.
    auto pending = store_.has_retired_writes();
    if (pending && *pending && !store_.reissue_retired_writes()) ++stats_.store_errors;
  }
  // Still waiting (the round was cut short by writes landing, or its peer was behind): ask the same
  // peers again, at most once a second, rather than at the next periodic round (30 s by default).
  if (completed.empty() || now_ms < next_refill_round_ms_) return;
  auto pending = store_.has_retired_writes();
  if (!pending || !*pending) return;
  next_refill_round_ms_ = now_ms + kRefillRoundIntervalMs;
  for (const auto& [peer, through] : completed) {
    if (auto endpoint = membership_->endpoint_of(peer)) anti_entropy_->request_round(peer, *endpoint, now_ms);
  }
}

namespace {

bool is_anti_entropy(const Body& body) {
  return std::holds_alternative<TreeLevel>(body) || std::holds_alternative<BucketDigest>(body) ||
         std::holds_alternative<BucketDelta>(body);
}

}  // namespace

std::vector<OutgoingFrame> Peer::frames_of(Outbox outbox, Lane lane) {
  std::vector<OutgoingFrame> frames;
  frames.reserve(outbox.size());
  for (Outgoing& message : outbox) {
    message.envelope.partition_count = partition_count_;
    std::string bytes;
    if (options_.security.insecure) {
      bytes = encode_peer_frame(message.envelope);
    } else if (sealer_) {
      const CounterStream stream =
          message.channel == Channel::kStream ? CounterStream::kStream : CounterStream::kDatagram;
      bytes = sealer_->seal(FrameType::kPeerMessage, stream, encode_peer_payload(message.envelope));
    }
    if (bytes.empty()) {
      count_in(lane, [](PeerStats& stats) { ++stats.frames_unsendable; });
      continue;
    }
    if (is_anti_entropy(message.envelope.body)) anti_entropy_->count_bytes_sent(bytes.size());
    count_in(lane, [&](PeerStats& stats) {
      ++stats.frames_sent;
      stats.bytes_sent += bytes.size();
    });
    frames.push_back(OutgoingFrame{std::move(message.to), message.channel, std::move(bytes)});
  }
  return frames;
}

void Peer::refresh_neighbours() {
  const std::uint64_t version = membership_->reachable_version();
  if (ring_version_ == version) return;
  ring_version_ = version;
  std::vector<PeerId> members = membership_->reachable_members();
  members.push_back(id());
  ring_.set_members(members);
  neighbours_ = ring_.neighbours(id());
  std::vector<Dissemination::Neighbour> with_endpoints;
  for (PeerId neighbour : neighbours_) {
    if (auto endpoint = membership_->endpoint_of(neighbour)) with_endpoints.push_back({neighbour, *endpoint});
  }
  dissemination_->set_neighbours(with_endpoints);
}

std::vector<OutgoingFrame> Peer::start(std::uint64_t now_ms) {
  next_gossip_ms_ = now_ms + options_.gossip_interval_ms;
  if (auto remembered = store_.load_peers()) {
    std::vector<MemberUpdate> members;
    for (const PeerRecord& record : *remembered) {
      if (record.id == id().value || record.status >= static_cast<std::uint8_t>(MemberStatus::kDead)) continue;
      members.push_back(MemberUpdate{PeerId{record.id}, Endpoint{record.host, record.port},
                                     static_cast<MemberStatus>(record.status), record.incarnation});
    }
    membership_->restore(members, now_ms);
  }
  return frames_of(membership_->join(seeds_, now_ms));
}

void Peer::remember_membership_changes() {
  std::vector<MemberUpdate> changes = membership_->take_changes();
  if (changes.empty()) return;
  std::vector<PeerRecord> records;
  for (const MemberUpdate& change : changes) {
    if (change.id == id()) continue;
    records.push_back(PeerRecord{change.id.value, change.endpoint.host, change.endpoint.port,
                                 static_cast<std::uint8_t>(change.status), change.incarnation});
  }
  // Best effort: a failed save only means a restart re-learns these members from its seeds.
  if (!records.empty() && !store_.save_peers(records)) ++stats_.store_errors;
}

std::vector<OutgoingFrame> Peer::tick(std::uint64_t now_ms) {
  if (identity_changed()) return start_over(now_ms);
  std::vector<OutgoingFrame> frames = membership_tick(now_ms);
  std::vector<OutgoingFrame> data = data_step(now_ms);
  frames.insert(frames.end(), std::make_move_iterator(data.begin()), std::make_move_iterator(data.end()));
  return frames;
}

std::vector<OutgoingFrame> Peer::data_tick(std::uint64_t now_ms) {
  if (identity_changed()) return start_over(now_ms);
  return data_step(now_ms);
}

std::vector<OutgoingFrame> Peer::data_step(std::uint64_t now_ms) {
  Outbox outbox;
  if (now_ms >= next_gossip_ms_) {
    next_gossip_ms_ = now_ms + options_.gossip_interval_ms;
    remember_membership_changes();
    refresh_neighbours();
    Outbox deltas = dissemination_->tick(now_ms);
    outbox.insert(outbox.end(), std::make_move_iterator(deltas.begin()), std::make_move_iterator(deltas.end()));
    Outbox repairs = run_anti_entropy(now_ms);
    outbox.insert(outbox.end(), std::make_move_iterator(repairs.begin()), std::make_move_iterator(repairs.end()));
  }
  Outbox reports = stability_->tick(now_ms, *membership_);
  outbox.insert(outbox.end(), std::make_move_iterator(reports.begin()), std::make_move_iterator(reports.end()));
  starting_over_ = identity_changed();
  return frames_of(std::move(outbox));
}

Outbox Peer::run_anti_entropy(std::uint64_t now_ms) {
  const std::uint64_t version = membership_->reachable_version();
  std::vector<PeerId> reachable;
  if (reachable_before_version_ == version) {
    reachable = reachable_before_;  // Nobody joined or came back since: no neighbour is new.
  } else {
    reachable = membership_->reachable_members();
    std::sort(reachable.begin(), reachable.end());
    reachable_before_version_ = version;
  }
  std::vector<AntiEntropy::Neighbour> neighbours;
  for (PeerId neighbour : neighbours_) {
    auto endpoint = membership_->endpoint_of(neighbour);
    if (!endpoint) continue;
    neighbours.push_back({neighbour, *endpoint});
    // A neighbour that joined or came back since the last tick may have missed anything.
    if (!std::binary_search(reachable_before_.begin(), reachable_before_.end(), neighbour)) {
      anti_entropy_->request_round(neighbour, *endpoint, now_ms);
    }
  }
  reachable_before_ = std::move(reachable);
  for (PeerId behind : dissemination_->neighbours_needing_anti_entropy()) {
    if (auto endpoint = membership_->endpoint_of(behind)) anti_entropy_->request_round(behind, *endpoint, now_ms);
  }
  Outbox out = anti_entropy_->tick(now_ms, neighbours);
  finish_rounds(now_ms);
  return out;
}

std::vector<OutgoingFrame> Peer::on_frame(std::string_view frame, std::uint64_t now_ms) {
  OpenedFrame opened = open_frame(frame, Lane::kData);
  if (!opened.envelope) return std::move(opened.replies);
  return on_envelope(*opened.envelope, frame.size(), now_ms);
}

std::vector<OutgoingFrame> Peer::on_envelope(const Envelope& envelope, std::size_t frame_bytes, std::uint64_t now_ms) {
  // Until the next tick starts over under a new id, the old machines answer nothing.
  if (identity_changed()) return {};
  if (is_anti_entropy(envelope.body) && !stability_->is_retired(envelope.sender)) {
    anti_entropy_->count_bytes_received(frame_bytes);
  }
  Outbox out = dispatch(envelope, now_ms);
  // Handling it moved the store to a new id (the cluster retired this peer, or a dot of ours another
  // copy minted): what the old machines would answer, under the old id, is not sent, and the
  // membership lane stops answering too until the next tick starts over.
  starting_over_ = identity_changed();
  if (starting_over_) return {};
  return frames_of(std::move(out));
}

Outbox Peer::dispatch(const Envelope& envelope, std::uint64_t now_ms) {
  if (stability_->is_retired(envelope.sender)) return stability_->answer_retired(envelope, now_ms);
  if (std::holds_alternative<ContextReport>(envelope.body) || std::holds_alternative<RetiredNotice>(envelope.body)) {
    return stability_->on_message(envelope, now_ms, *membership_);
  }
  if (std::holds_alternative<DeltaPush>(envelope.body) || std::holds_alternative<DeltaAck>(envelope.body)) {
    return dissemination_->on_message(envelope, now_ms);
  }
  if (is_anti_entropy(envelope.body)) {
    Outbox out = anti_entropy_->on_message(envelope, now_ms);
    finish_rounds(now_ms);
    return out;
  }
  return membership_->on_message(envelope, now_ms);
}

DecodeResult Peer::open_and_decode(std::string_view frame) {
  const std::size_t max_payload_bytes = std::min(options_.max_frame_payload_bytes, kMaxFramePayloadBytes);
  const HeaderResult header = parse_frame_header(frame, max_payload_bytes);
  const bool sealed = header.ok && header.header.key_id != 0;
  if (options_.security.insecure && !sealed) return decode_peer_frame(frame, max_payload_bytes);
  DecodeResult refused;
  if (!sealer_) {
    refused.error = header.ok ? FrameError::kUnknownKey : header.error;
    return refused;
  }
  OpenResult opened = sealer_->open(frame, FrameType::kPeerMessage, max_payload_bytes);
  if (!opened.ok) {
    refused.error = opened.error;
    refused.detail = std::move(opened.detail);
    return refused;
  }
  return decode_peer_payload(opened.payload);
}

std::vector<OutgoingFrame> Peer::leave(std::uint64_t now_ms) { return frames_of(membership_->leave(now_ms)); }

}  // namespace cairn::gossip
