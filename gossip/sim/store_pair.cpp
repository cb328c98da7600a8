#include "gossip/sim/store_pair.h"

#include <deque>
#include <stdexcept>
#include <utility>

#include "gossip/wire.h"
#include "src/codec/codec.h"

namespace cairn::sim {
namespace {

gossip::AntiEntropyOptions without_background(gossip::AntiEntropyOptions options) {
  options.periodic_interval_ms = 0;  // Rounds only when reconcile() asks.
  return options;
}

}  // namespace

std::uint64_t load_registers(const std::vector<store::Replica*>& stores, std::uint64_t writer,
                             const std::string& prefix, std::uint64_t first, std::uint64_t count,
                             std::size_t value_bytes) {
  constexpr std::uint64_t kPerGroup = 10'000;
  std::uint64_t bytes = 0;
  for (std::uint64_t start = first; start < first + count; start += kPerGroup) {
    codec::DeltaGroup group;
    for (std::uint64_t i = start; i < std::min(first + count, start + kPerGroup); ++i) {
      // Dots count from 1 at key `first`; a later call for the same writer must continue the numbering.
      const crdt::Dot dot{crdt::ReplicaId{writer}, i + 1};
      std::string value(value_bytes, static_cast<char>('a' + i % 26));
      const std::string number = std::to_string(i);
      value.replace(0, std::min(number.size(), value.size()), number.substr(0, value.size()));
      crdt::LwwRegister::Store::Entries entries;
      entries.emplace(dot, crdt::LwwEntry{std::move(value), crdt::HlcTimestamp{1'700'000'000'000ull + i, 0}});
      group.records.push_back(
          codec::RecordFragment{codec::RecordKey{prefix + number, codec::ValueType::kRegister, {}},
                                crdt::LwwRegister::Store(std::move(entries))});
      group.context.insert(dot);
    }
    const std::string encoded = codec::encode_delta_group(group);
    bytes += encoded.size();
    for (store::Replica* store : stores) {
      if (!store->merge_delta(encoded, writer)) return 0;
    }
  }
  return bytes;
}

StorePair::StorePair(store::Replica& a, store::Replica& b, gossip::AntiEntropyOptions options)
    : a_(gossip::PeerId{a.replica_id()}, a_endpoint_, 1, a, without_background(options), 1),
      b_(gossip::PeerId{b.replica_id()}, b_endpoint_, 1, b, without_background(options), 2),
      b_id_(gossip::PeerId{b.replica_id()}) {}

StorePair::RoundResult StorePair::reconcile() {
  RoundResult result;
  const std::uint64_t completed_before = a_.stats().rounds_completed;
  const std::uint64_t in_sync_before = a_.stats().rounds_in_sync;
  a_.request_round(b_id_, b_endpoint_, now_ms_);
  std::deque<gossip::Outgoing> in_flight;
  for (gossip::Outgoing& message : a_.tick(now_ms_, {})) in_flight.push_back(std::move(message));
  while (!in_flight.empty()) {
    gossip::Outgoing message = std::move(in_flight.front());
    in_flight.pop_front();
    const std::string frame = gossip::encode_peer_frame(message.envelope);
    ++result.frames;
    result.bytes += frame.size();
    gossip::DecodeResult decoded = gossip::decode_peer_frame(frame);
    // Test-harness code: a frame the decoder refuses is a bug in the sender, not a condition to handle.
    if (!decoded.ok) throw std::runtime_error("anti-entropy sent an undecodable frame: " + decoded.detail);
    ++now_ms_;
    gossip::AntiEntropy& to = message.to == a_endpoint_ ? a_ : b_;
    for (gossip::Outgoing& reply : to.on_message(decoded.envelope, now_ms_))
      in_flight.push_back(std::move(reply));
  }
  (void)a_.take_completed();
  result.completed = a_.stats().rounds_completed > completed_before;
  result.in_sync = a_.stats().rounds_in_sync > in_sync_before;
  return result;
}

}  // namespace cairn::sim
