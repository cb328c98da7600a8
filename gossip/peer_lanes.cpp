// The Peer's lanes (peer.h): opening frames on either lane, and the membership lane, which runs SWIM's
// failure detection apart from the store work of the data lane.
#include <utility>
#include <variant>

#include "gossip/peer.h"
#include "src/util/hex_id.h"

namespace cairn::gossip {
namespace {

bool is_failure_detection(const Body& body) {
  return std::holds_alternative<Ping>(body) || std::holds_alternative<PingAck>(body) ||
         std::holds_alternative<PingRequest>(body);
}

void add(PeerStats& into, const PeerStats& from) {
  into.frames_received += from.frames_received;
  into.bytes_received += from.bytes_received;
  into.frames_sent += from.frames_sent;
  into.bytes_sent += from.bytes_sent;
  into.frames_from_other_clusters += from.frames_from_other_clusters;
  into.frames_other_partition_count += from.frames_other_partition_count;
  into.store_errors += from.store_errors;
  into.frames_unsendable += from.frames_unsendable;
  for (std::size_t i = 0; i < into.frames_dropped.size(); ++i) into.frames_dropped[i] += from.frames_dropped[i];
}

}  // namespace

OpenedFrame Peer::open_frame(std::string_view frame, Lane lane) {
  count_in(lane, [&](PeerStats& stats) {
    ++stats.frames_received;
    stats.bytes_received += frame.size();
  });
  OpenedFrame opened;
  DecodeResult decoded = open_and_decode(frame);
  if (!decoded.ok) {
    count_in(lane, [&](PeerStats& stats) { ++stats.frames_dropped[static_cast<std::size_t>(decoded.error)]; });
    opened.dropped = FrameDrop{std::string(to_string(decoded.error)), std::move(decoded.detail)};
    return opened;
  }
  if (decoded.envelope.cluster_id != cluster_id_) {
    count_in(lane, [](PeerStats& stats) { ++stats.frames_from_other_clusters; });
    opened.dropped = FrameDrop{"other_cluster", other_cluster_detail(decoded.envelope)};
    return opened;
  }
  // 0: a build from before partitions, which holds one store-wide context like every peer at full
  // replication; accepted until per-partition gossip changes what is shipped (docs/partitions.md).
  if (decoded.envelope.partition_count != 0 && decoded.envelope.partition_count != partition_count_) {
    count_in(lane, [](PeerStats& stats) { ++stats.frames_other_partition_count; });
    opened.dropped = FrameDrop{"other_partition_count", other_partition_count_detail(decoded.envelope)};
    opened.replies = refusal_for(decoded.envelope, lane);
    return opened;
  }
  opened.envelope = std::move(decoded.envelope);
  return opened;
}

// The envelope names its cluster only by id (a hash of the name), so the other cluster's name cannot
// be told; its id still shows two misconfigured peers apart.
std::string Peer::other_cluster_detail(const Envelope& envelope) const {
  return "replica " + hex_id(envelope.sender.value) + " listening at " + envelope.sender_endpoint.to_string() +
         " is in the cluster with id " + hex_id(envelope.cluster_id) + "; this peer is in cluster '" +
         options_.cluster_name + "' (id " + hex_id(cluster_id_) + ")";
}

std::string Peer::other_partition_count_detail(const Envelope& envelope) const {
  return "replica " + hex_id(envelope.sender.value) + " listening at " + envelope.sender_endpoint.to_string() +
         " has " + std::to_string(envelope.partition_count) + " partitions; this peer has " +
         std::to_string(partition_count_) + ": refused, never merged";
}

std::vector<OutgoingFrame> Peer::refusal_for(const Envelope& envelope, Lane lane) {
  const auto* ping = std::get_if<Ping>(&envelope.body);
  if (ping == nullptr) return {};
  // The store's id, not membership's: this may run on either lane, and the id is atomic there.
  Outgoing ack{envelope.sender_endpoint, Channel::kDatagram,
               Envelope{cluster_id_, PeerId{store_.replica_id()}, endpoint_, PingAck{ping->probe, {}}}};
  return frames_of(Outbox{std::move(ack)}, lane);
}

std::vector<OutgoingFrame> Peer::membership_tick(std::uint64_t now_ms) {
  std::lock_guard lane(membership_lane_mutex_);
  if (starting_over_) return {};
  return frames_of(membership_->tick(now_ms), Lane::kMembership);
}

Peer::MembershipView Peer::membership_view() {
  std::lock_guard lane(membership_lane_mutex_);
  return MembershipView{membership_->members(), membership_->isolated_since_ms()};
}

std::optional<std::vector<OutgoingFrame>> Peer::on_membership_message(const Envelope& envelope,
                                                                      std::uint64_t now_ms) {
  if (!is_failure_detection(envelope.body)) return std::nullopt;
  std::lock_guard lane(membership_lane_mutex_);
  if (starting_over_) return std::vector<OutgoingFrame>{};  // Ignored, as on the data lane.
  // A retired replica is answered with a RetiredNotice, which stability (data lane) sends.
  if (membership_->is_retired(envelope.sender)) return std::nullopt;
  return frames_of(membership_->on_message(envelope, now_ms), Lane::kMembership);
}

PeerStats Peer::stats() const {
  PeerStats total = stats_;
  std::lock_guard lock(membership_stats_mutex_);
  add(total, membership_stats_);
  return total;
}

}  // namespace cairn::gossip
