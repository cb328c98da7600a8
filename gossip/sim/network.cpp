#include "gossip/sim/network.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace cairn::sim {
namespace {

[[maybe_unused]] bool valid(const Network::Faults& faults) {
  return faults.loss >= 0 && faults.loss <= 1 && faults.duplicate >= 0 && faults.duplicate <= 1 &&
         faults.min_delay_ms <= faults.max_delay_ms;
}

}  // namespace

Network::Network(Scheduler& scheduler, std::uint64_t seed) : scheduler_(scheduler), rng_(seed) {}

void Network::attach(const gossip::Endpoint& at, Receiver receiver) {
  receivers_[at] = Attachment{std::make_shared<const Receiver>(std::move(receiver)), next_generation_++};
}

void Network::detach(const gossip::Endpoint& at) { receivers_.erase(at); }

void Network::set_faults(const Faults& faults) {
  assert(valid(faults));
  faults_ = faults;
}

void Network::set_link_faults(const std::string& from_host, const std::string& to_host,
                              const Faults& faults) {
  assert(valid(faults));
  link_faults_[{from_host, to_host}] = faults;
}

void Network::clear_link_faults(const std::string& from_host, const std::string& to_host) {
  link_faults_.erase({from_host, to_host});
}

void Network::partition(const std::vector<std::set<std::string>>& groups) {
  group_of_host_.clear();
  for (std::size_t group = 0; group < groups.size(); ++group) {
    for (const std::string& host : groups[group]) {
      [[maybe_unused]] const bool first = group_of_host_.emplace(host, group).second;
      assert(first && "a host may appear in at most one partition group");
    }
  }
  unlisted_group_ = groups.size();
  partitioned_ = true;
}

void Network::heal() {
  group_of_host_.clear();
  partitioned_ = false;
}

bool Network::reachable(const std::string& from_host, const std::string& to_host) const {
  if (!partitioned_ || from_host == to_host) return true;
  auto group_of = [this](const std::string& host) {
    auto it = group_of_host_.find(host);
    return it == group_of_host_.end() ? unlisted_group_ : it->second;
  };
  return group_of(from_host) == group_of(to_host);
}

void Network::send(const gossip::Endpoint& from, const gossip::Endpoint& to, gossip::Channel channel,
                   std::string frame) {
  ChannelStats& stats = stats_of(channel);
  count(stats.sent, frame);
  if (!reachable(from.host, to.host)) {
    count(stats.partitioned, frame);
    return;
  }
  std::uint64_t generation = 0;
  if (auto it = receivers_.find(to); it != receivers_.end()) {
    generation = it->second.generation;
  } else if (channel == gossip::Channel::kStream) {
    count(stats.detached, frame);  // Connection refused: nobody listens there.
    return;
  }
  const Faults faults = faults_for(from.host, to.host);
  if (channel == gossip::Channel::kDatagram && draw(faults.duplicate)) {
    count(stats.duplicated, frame);
    launch(InFlight{from, to, channel, generation, frame}, faults);
  }
  launch(InFlight{from, to, channel, generation, std::move(frame)}, faults);
}

const Network::Faults& Network::faults_for(const std::string& from_host, const std::string& to_host) const {
  auto it = link_faults_.find({from_host, to_host});
  return it == link_faults_.end() ? faults_ : it->second;
}

// Uses the top 53 bits of one draw, so the comparison is exact in a double.
bool Network::draw(double probability) {
  if (probability <= 0) return false;
  if (probability >= 1) return true;
  return static_cast<double>(rng_.next() >> 11) * 0x1.0p-53 < probability;
}

SimTimeMs Network::draw_delay_ms(const Faults& faults) {
  const SimTimeMs span = faults.max_delay_ms - faults.min_delay_ms;
  if (span == 0) return faults.min_delay_ms;
  if (span == std::numeric_limits<SimTimeMs>::max()) return rng_.next();
  return faults.min_delay_ms + rng_.below(span + 1);
}

void Network::launch(InFlight copy, const Faults& faults) {
  if (draw(faults.loss)) {
    count(stats_of(copy.channel).lost, copy.frame);
    return;
  }
  const SimTimeMs now_ms = scheduler_.now_ms();
  SimTimeMs due_ms = now_ms + draw_delay_ms(faults);
  if (copy.channel == gossip::Channel::kStream) {
    // Never before the previous stream frame on this pair; at equal times the scheduler keeps send order.
    SimTimeMs& last_due_ms = last_stream_due_ms_[{copy.from, copy.to}];
    due_ms = std::max(due_ms, last_due_ms);
    last_due_ms = due_ms;
  }
  scheduler_.schedule_after(due_ms - now_ms,
                            [this, copy = std::move(copy)]() mutable { deliver(std::move(copy)); });
}

void Network::deliver(InFlight copy) {
  ChannelStats& stats = stats_of(copy.channel);
  if (!reachable(copy.from.host, copy.to.host)) {
    count(stats.partitioned, copy.frame);
    return;
  }
  auto it = receivers_.find(copy.to);
  const bool restarted = it != receivers_.end() && copy.channel == gossip::Channel::kStream &&
                         it->second.generation != copy.generation;
  if (it == receivers_.end() || restarted) {
    count(stats.detached, copy.frame);
    return;
  }
  count(stats.delivered, copy.frame);
  // Holds the receiver alive even if it detaches or replaces itself while it runs.
  const std::shared_ptr<const Receiver> receiver = it->second.receiver;
  (*receiver)(copy.from, copy.channel, std::move(copy.frame));
}

}  // namespace cairn::sim
