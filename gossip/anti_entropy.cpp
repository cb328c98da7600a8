#include "gossip/anti_entropy.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "gossip/wire.h"

namespace cairn::gossip {
namespace {

std::vector<std::uint32_t> children_of(const std::vector<std::uint32_t>& parents) {
  std::vector<std::uint32_t> children;
  children.reserve(parents.size() * kTreeFanout);
  for (std::uint32_t parent : parents) {
    for (std::uint32_t child = 0; child < kTreeFanout; ++child)
      children.push_back(parent * kTreeFanout + child);
  }
  return children;
}

const std::vector<std::uint32_t> kRootOnly{0};

}  // namespace

AntiEntropy::AntiEntropy(PeerId self, Endpoint self_endpoint, std::uint64_t cluster_id, store::Replica& store,
                         AntiEntropyOptions options, std::uint64_t random_seed)
    : self_(self),
      self_endpoint_(std::move(self_endpoint)),
      cluster_id_(cluster_id),
      store_(store),
      options_(options),
      rng_(random_seed) {
  options_.max_buckets_per_exchange =
      std::clamp<std::size_t>(options_.max_buckets_per_exchange, 1, kMaxExchangeBuckets);
  options_.max_passes = std::max(options_.max_passes, 1);
}

Envelope AntiEntropy::envelope(Body body) const {
  return Envelope{cluster_id_, self_, self_endpoint_, std::move(body)};
}

bool AntiEntropy::round_running_with(PeerId peer) const {
  return std::any_of(rounds_.begin(), rounds_.end(),
                     [&](const auto& round) { return round.second.peer == peer; });
}

void AntiEntropy::request_round(PeerId peer, const Endpoint& endpoint, std::uint64_t now_ms) {
  if (peer == self_ || round_running_with(peer)) return;
  if (auto it = retry_not_before_ms_.find(peer); it != retry_not_before_ms_.end() && now_ms < it->second)
    return;
  if (std::any_of(queued_.begin(), queued_.end(), [&](const auto& queued) { return queued.first == peer; }))
    return;
  queued_.emplace_back(peer, endpoint);
}

Outbox AntiEntropy::tick(std::uint64_t now_ms, const std::vector<Neighbour>& neighbours) {
  Outbox out;
  std::vector<std::uint64_t> expired;
  for (const auto& [id, round] : rounds_) {
    if (now_ms >= round.last_activity_ms + options_.round_timeout_ms) expired.push_back(id);
  }
  for (std::uint64_t id : expired) fail_round(id, now_ms);
  std::erase_if(initiator_contexts_,
                [now_ms](const auto& entry) { return entry.second.expires_ms <= now_ms; });

  if (options_.periodic_interval_ms > 0) {
    // The first periodic round comes after a random part of the interval, so peers started together
    // do not all reconcile at the same moments.
    if (next_periodic_ms_ == 0) next_periodic_ms_ = now_ms + 1 + rng_.below(options_.periodic_interval_ms);
    if (now_ms >= next_periodic_ms_) {
      next_periodic_ms_ = now_ms + options_.periodic_interval_ms;
      if (!neighbours.empty()) {
        const Neighbour& chosen = neighbours[rng_.below(neighbours.size())];
        request_round(chosen.id, chosen.endpoint, now_ms);
      }
    }
  }

  // A peer whose newest own dots wait for confirmation ships no state: its rounds wait in the queue.
  if (holding_own_dots()) return out;
  while (!queued_.empty() && rounds_.size() < options_.max_concurrent_rounds) {
    auto [peer, endpoint] = std::move(queued_.front());
    queued_.pop_front();
    start_round(peer, endpoint, now_ms, out);
  }
  return out;
}

void AntiEntropy::start_round(PeerId peer, const Endpoint& endpoint, std::uint64_t now_ms, Outbox& out) {
  auto bounds = store_.delta_log_bounds();
  if (!bounds) {
    ++stats_.store_errors;
    return;
  }
  std::uint64_t id = rng_.next();
  while (id == 0 || rounds_.contains(id)) id = rng_.next();
  Round round;
  round.peer = peer;
  round.endpoint = endpoint;
  round.log_last_at_start = bounds->last;
  round.last_activity_ms = now_ms;
  ++stats_.rounds_started;
  auto [it, inserted] = rounds_.emplace(id, std::move(round));
  if (!start_pass(id, it->second, out)) fail_round(id, now_ms);
}

bool AntiEntropy::start_pass(std::uint64_t id, Round& round, Outbox& out) {
  ++round.pass;
  auto mine = store_.tree_hashes(1, children_of(kRootOnly), /*with_context=*/true);
  if (!mine) {
    ++stats_.store_errors;
    return false;
  }
  round.descents.clear();
  round.buckets.clear();
  round.in_exchange.clear();
  TreeLevel request{id, false, 1, kRootOnly, std::move(mine->hashes), std::move(mine->context)};
  round.asked = {1, kRootOnly};
  out.push_back(Outgoing{round.endpoint, Channel::kStream, envelope(std::move(request))});
  return true;
}

void AntiEntropy::advance(std::uint64_t id, Round& round, Outbox& out) {
  if (!round.descents.empty()) {
    auto [level, parents] = std::move(round.descents.front());
    round.descents.pop_front();
    round.asked = {level, parents};
    out.push_back(Outgoing{round.endpoint, Channel::kStream,
                           envelope(TreeLevel{id, false, level, std::move(parents), {}, {}})});
    return;
  }
  if (!round.buckets.empty()) {
    std::vector<std::uint32_t> slice;
    while (!round.buckets.empty() && slice.size() < options_.max_buckets_per_exchange) {
      slice.push_back(round.buckets.front());
      round.buckets.pop_front();
    }
    std::sort(slice.begin(), slice.end());
    auto digests = store_.bucket_digests(slice, options_.max_digest_records);
    if (!digests) {
      ++stats_.store_errors;
      fail_round(id, round.last_activity_ms);
      return;
    }
    // Buckets past the digest budget wait for the next slice.
    for (auto it = slice.rbegin(); it != slice.rend(); ++it) {
      if (!std::binary_search(digests->buckets.begin(), digests->buckets.end(), *it))
        round.buckets.push_front(*it);
    }
    BucketDigest digest{id, digests->buckets, {}, {}};
    for (const RecordDigest& record : digests->records) {
      digest.key_hashes.push_back(record.key_hash);
      digest.record_hashes.push_back(record.record_hash);
    }
    round.in_exchange = digests->buckets;
    round.asked = {0, {}};
    stats_.buckets_exchanged += digests->buckets.size();
    out.push_back(Outgoing{round.endpoint, Channel::kStream, envelope(std::move(digest))});
    return;
  }
  if (round.pass < options_.max_passes) {
    if (!start_pass(id, round, out)) fail_round(id, round.last_activity_ms);
    return;
  }
  finish(id, /*in_sync=*/false);
}

void AntiEntropy::finish(std::uint64_t id, bool in_sync) {
  auto it = rounds_.find(id);
  if (it == rounds_.end()) return;
  ++stats_.rounds_completed;
  if (in_sync) ++stats_.rounds_in_sync;
  completed_.emplace_back(it->second.peer, it->second.log_last_at_start);
  rounds_.erase(it);
}

void AntiEntropy::fail_round(std::uint64_t id, std::uint64_t now_ms) {
  auto it = rounds_.find(id);
  if (it == rounds_.end()) return;
  ++stats_.rounds_failed;
  retry_not_before_ms_[it->second.peer] = now_ms + options_.retry_after_ms;
  rounds_.erase(it);
}

std::vector<std::pair<PeerId, std::uint64_t>> AntiEntropy::take_completed() {
  return std::exchange(completed_, {});
}

Outbox AntiEntropy::on_message(const Envelope& message, std::uint64_t now_ms) {
  Outbox out;
  const TreeLevel* tree = std::get_if<TreeLevel>(&message.body);
  const BucketDelta* delta = std::get_if<BucketDelta>(&message.body);
  if (const auto* digest = std::get_if<BucketDigest>(&message.body)) return answer_digest(message, *digest);
  if (tree == nullptr && delta == nullptr) return out;
  if (tree != nullptr && !tree->reply) return answer_tree(message, *tree, now_ms);
  if (delta != nullptr && !delta->reply) {
    // The initiator's last step, merged under the context it sent at the start of the pass.
    auto context = initiator_contexts_.find(delta->round);
    if (context == initiator_contexts_.end() || context->second.peer != message.sender) {
      ++stats_.messages_ignored;  // Forgotten (or never known): the next pass finds the difference again.
      return out;
    }
    merge(message.sender, delta->buckets, delta->records, delta->absent, context->second.context);
    return out;
  }

  const std::uint64_t id = tree != nullptr ? tree->round : delta->round;
  auto it = rounds_.find(id);
  if (it == rounds_.end() || it->second.peer != message.sender) {
    ++stats_.messages_ignored;
    return out;
  }
  Round& round = it->second;
  round.last_activity_ms = now_ms;
  if (tree != nullptr) {
    on_tree_reply(id, round, *tree, out);
  } else {
    on_delta_reply(id, round, *delta, out);
  }
  return out;
}

void AntiEntropy::on_tree_reply(std::uint64_t id, Round& round, const TreeLevel& reply, Outbox& out) {
  if (reply.busy) {
    // The responder ships nothing until its own newest dots are confirmed: ask again later.
    ++stats_.rounds_declined;
    fail_round(id, round.last_activity_ms);
    return;
  }
  if (reply.level != round.asked.first || reply.parents != round.asked.second ||
      reply.hashes.size() != reply.parents.size() * kTreeFanout) {
    ++stats_.messages_ignored;  // Not the answer to what this round asked (a stale duplicate).
    return;
  }
  const std::vector<std::uint32_t> children = children_of(reply.parents);
  auto mine = store_.tree_hashes(reply.level, children, /*with_context=*/false);
  if (!mine) {
    ++stats_.store_errors;
    fail_round(id, round.last_activity_ms);
    return;
  }
  stats_.buckets_compared += children.size();
  std::vector<std::uint32_t> differing;
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (mine->hashes[i] != reply.hashes[i]) differing.push_back(children[i]);
  }
  if (reply.level == 1) round.peer_context = reply.context;
  if (reply.level == 1 && differing.empty()) {
    // Every record equal: the responder's context can join ours (its dots we lack were removed there).
    auto joined = store_.join_context_if_tree_equals(reply.hashes, reply.context);
    if (!joined) {
      ++(joined.error().code() == ErrorCode::kCorrupt ? stats_.messages_rejected : stats_.store_errors);
    }
    finish(id, joined && *joined);
    return;
  }
  if (reply.level < kTreeLeafLevel) {
    for (std::size_t first = 0; first < differing.size(); first += kMaxTreeParents) {
      const std::size_t end = std::min(differing.size(), first + kMaxTreeParents);
      round.descents.emplace_back(
          static_cast<std::uint8_t>(reply.level + 1),
          std::vector<std::uint32_t>(differing.begin() + static_cast<std::ptrdiff_t>(first),
                                     differing.begin() + static_cast<std::ptrdiff_t>(end)));
    }
  } else {
    round.buckets.insert(round.buckets.end(), differing.begin(), differing.end());
  }
  advance(id, round, out);
}

void AntiEntropy::on_delta_reply(std::uint64_t id, Round& round, const BucketDelta& reply, Outbox& out) {
  if (round.in_exchange.empty() || reply.buckets != round.in_exchange) {
    ++stats_.messages_ignored;
    return;
  }
  round.in_exchange.clear();
  auto merged = merge(round.peer, reply.buckets, reply.records, reply.absent, round.peer_context);
  auto after = store_.bucket_digests(reply.buckets, SIZE_MAX);
  if (!merged || !after) {
    if (!after) ++stats_.store_errors;
    fail_round(id, round.last_activity_ms);
    return;
  }
  // Send back what the responder wants, and our version of what it sent whenever the merge left ours
  // different (a record we had removed, or one that joined with our own entries).
  std::map<std::uint64_t, std::uint64_t> ours;
  for (const RecordDigest& record : after->records) ours.emplace(record.key_hash, record.record_hash);
  std::set<std::uint64_t> back(reply.wanted.begin(), reply.wanted.end());
  for (const RecordDigest& received : merged->received) {
    auto it = ours.find(received.key_hash);
    if (it == ours.end() || it->second != received.record_hash) back.insert(received.key_hash);
  }
  if (!back.empty()) {
    BucketDelta answer{id, false, reply.buckets, {}, {}, {}};
    std::vector<std::uint64_t> present;
    for (std::uint64_t key : back) (ours.contains(key) ? present : answer.absent).push_back(key);
    auto records = records_of(reply.buckets, present);
    if (!records) {
      fail_round(id, round.last_activity_ms);
      return;
    }
    answer.records = std::move(*records);
    out.push_back(Outgoing{round.endpoint, Channel::kStream, envelope(std::move(answer))});
  }
  advance(id, round, out);
}

std::optional<BucketMerge> AntiEntropy::merge(PeerId from, const std::vector<std::uint32_t>& buckets,
                                              const std::string& records,
                                              const std::vector<std::uint64_t>& absent,
                                              const std::string& context) {
  auto merged = store_.merge_buckets(buckets, records, absent, context, from.value);
  if (!merged) {
    const ErrorCode code = merged.error().code();
    ++(code == ErrorCode::kCorrupt || code == ErrorCode::kLimitExceeded ? stats_.messages_rejected
                                                                        : stats_.store_errors);
    return std::nullopt;
  }
  stats_.records_received += merged->received.size();
  return std::move(*merged);
}

std::optional<std::string> AntiEntropy::records_of(const std::vector<std::uint32_t>& buckets,
                                                   const std::vector<std::uint64_t>& key_hashes) {
  auto records = store_.bucket_records(buckets, key_hashes, options_.max_bytes_per_exchange);
  if (!records) {
    ++stats_.store_errors;
    return std::nullopt;
  }
  stats_.records_sent += records->records;
  return std::move(records->group);
}

Outbox AntiEntropy::answer_tree(const Envelope& message, const TreeLevel& request, std::uint64_t now_ms) {
  Outbox out;
  const bool top = request.level == 1;
  if (holding_own_dots()) {
    // Our hashes, context and records would show own dots no peer may hold yet: decline the round.
    TreeLevel busy{request.round, true, request.level, request.parents, {}, {}};
    busy.busy = true;
    out.push_back(Outgoing{message.sender_endpoint, Channel::kStream, envelope(std::move(busy))});
    return out;
  }
  if (top) {
    if (initiator_contexts_.size() >= kMaxInitiatorContexts && !initiator_contexts_.contains(request.round)) {
      auto oldest = std::min_element(
          initiator_contexts_.begin(), initiator_contexts_.end(),
          [](const auto& a, const auto& b) { return a.second.expires_ms < b.second.expires_ms; });
      initiator_contexts_.erase(oldest);
    }
    initiator_contexts_[request.round] =
        InitiatorContext{message.sender, request.context, now_ms + 2 * options_.round_timeout_ms};
  }
  auto mine = store_.tree_hashes(request.level, children_of(request.parents), /*with_context=*/top);
  if (!mine) {
    ++stats_.store_errors;
    return out;
  }
  if (top && request.hashes == mine->hashes && !request.context.empty()) {
    auto joined = store_.join_context_if_tree_equals(request.hashes, request.context);
    if (!joined)
      ++(joined.error().code() == ErrorCode::kCorrupt ? stats_.messages_rejected : stats_.store_errors);
  }
  out.push_back(Outgoing{message.sender_endpoint, Channel::kStream,
                         envelope(TreeLevel{request.round, true, request.level, request.parents,
                                            std::move(mine->hashes), std::move(mine->context)})});
  return out;
}

Outbox AntiEntropy::answer_digest(const Envelope& message, const BucketDigest& digest) {
  Outbox out;
  if (holding_own_dots()) {  // A round we declined at level 1 does not get this far.
    ++stats_.messages_ignored;
    return out;
  }
  auto mine = store_.bucket_digests(digest.buckets, SIZE_MAX);
  if (!mine) {
    ++stats_.store_errors;
    return out;
  }
  std::map<std::uint64_t, std::uint64_t> theirs;
  for (std::size_t i = 0; i < digest.key_hashes.size(); ++i)
    theirs.emplace(digest.key_hashes[i], digest.record_hashes[i]);
  BucketDelta reply{digest.round, true, digest.buckets, {}, {}, {}};
  std::vector<std::uint64_t> send;
  for (const RecordDigest& record : mine->records) {
    auto it = theirs.find(record.key_hash);
    if (it == theirs.end()) {
      send.push_back(record.key_hash);  // They lack it.
    } else {
      if (it->second != record.record_hash) {
        send.push_back(record.key_hash);  // Both hold it, differently: each side sends its own.
        reply.wanted.push_back(record.key_hash);
      }
      theirs.erase(it);
    }
  }
  for (const auto& [key, hash] : theirs) {  // What is left we lack: absent here, and wanted.
    reply.absent.push_back(key);
    reply.wanted.push_back(key);
  }
  auto records = records_of(digest.buckets, send);
  if (!records) return out;
  reply.records = std::move(*records);
  out.push_back(Outgoing{message.sender_endpoint, Channel::kStream, envelope(std::move(reply))});
  return out;
}

}  // namespace cairn::gossip
