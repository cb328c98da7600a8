// The simulator's network: moves opaque frames between endpoints in virtual time.
//
// Every frame is delivered later through the Scheduler, never inside send(), after a delay drawn
// from the link's Faults; frames may also be lost, duplicated (datagrams only), reordered (datagrams
// only: stream frames between one ordered pair of endpoints arrive in send order, as over TCP),
// blocked by a partition, or dropped because nobody is attached at the destination. All randomness
// comes from one Rng seeded at construction, and all state is kept in ordered containers, so the
// same seed and the same sequence of calls give the same deliveries, in the same order, at the same
// virtual times.
//
// Single-threaded, like the Scheduler: every method, and every Receiver, runs on the thread that
// runs the scheduler. A Receiver may call any method of the Network, including send() and detach()
// of its own endpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gossip/outgoing.h"
#include "gossip/sim/scheduler.h"
#include "src/util/rng.h"

namespace cairn::sim {

class Network {
 public:
  // Called once per delivered frame, with the sender's endpoint and the channel it was sent on.
  using Receiver =
      std::function<void(const gossip::Endpoint& from, gossip::Channel channel, std::string frame)>;

  // What a link does to each frame sent over it. Probabilities are in [0, 1] and
  // min_delay_ms <= max_delay_ms (both asserted); each delay is drawn uniformly from that range.
  struct Faults {
    double loss = 0;       // Chance that a copy of a frame is lost.
    double duplicate = 0;  // Chance that a datagram travels as two copies, each with its own loss and delay.
    SimTimeMs min_delay_ms = 1;
    SimTimeMs max_delay_ms = 5;
  };

  struct Counter {
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;
  };

  // Once no frame is in flight: sent + duplicated == delivered + lost + partitioned + detached.
  struct ChannelStats {
    Counter sent;         // Calls to send().
    Counter duplicated;   // Extra copies the network made (datagrams only).
    Counter delivered;    // Copies handed to a Receiver.
    Counter lost;         // Copies dropped by the link's loss.
    Counter partitioned;  // Copies dropped by a partition, at send or at delivery.
    Counter detached;     // Copies dropped because no receiver (or, for streams, a restarted one) was there.
  };

  struct Stats {
    ChannelStats datagram;
    ChannelStats stream;

    const ChannelStats& of(gossip::Channel channel) const {
      return channel == gossip::Channel::kStream ? stream : datagram;
    }
  };

  // `scheduler` is borrowed and must outlive the Network. Frames in flight are scheduler events
  // that refer to this Network: the scheduler must not run them after the Network is destroyed.
  Network(Scheduler& scheduler, std::uint64_t seed);

  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Starts delivering frames addressed to `at` to `receiver`. Attaching again replaces the receiver
  // and counts as a restart: stream frames in flight to the old one are dropped (their connection
  // died with it), while datagrams in flight reach the new one.
  void attach(const gossip::Endpoint& at, Receiver receiver);

  // Stops delivering to `at`, as when its peer crashes or stops: frames to it, including those
  // already in flight, are dropped and counted as detached. Detaching an unattached endpoint is a no-op.
  void detach(const gossip::Endpoint& at);

  bool attached(const gossip::Endpoint& at) const { return receivers_.contains(at); }

  // Sets the faults of every link that has no override of its own.
  void set_faults(const Faults& faults);

  // Overrides the faults of the one-way link from `from_host` to `to_host` (set both directions for
  // a symmetric link), until cleared.
  void set_link_faults(const std::string& from_host, const std::string& to_host, const Faults& faults);
  void clear_link_faults(const std::string& from_host, const std::string& to_host);

  // Splits the hosts into `groups`: frames pass only between hosts of the same group, in both
  // directions. Hosts named in no group form one more group together, so partition({{"10.0.0.1"}})
  // cuts one host off from all others. A host may appear in at most one group. Replaces any earlier
  // partition. Frames in flight that cross the new partition are dropped when they arrive.
  void partition(const std::vector<std::set<std::string>>& groups);

  // Ends the partition: every host reaches every other again.
  void heal();

  // Whether, under the current partition, a frame from `from_host` reaches `to_host`.
  bool reachable(const std::string& from_host, const std::string& to_host) const;

  // Sends `frame` from `from` to `to`. Never calls a Receiver itself; delivery is a scheduler event.
  // A lost stream frame models a connection that broke with the frame in flight: later frames travel
  // on a fresh connection, so the receiver can see a gap, but never a reordering or a duplicate.
  // A stream frame to an endpoint with no receiver attached is refused at once (counted as detached).
  void send(const gossip::Endpoint& from, const gossip::Endpoint& to, gossip::Channel channel,
            std::string frame);

  const Stats& stats() const noexcept { return stats_; }

 private:
  struct Attachment {
    std::shared_ptr<const Receiver> receiver;  // Shared so a Receiver may detach itself while it runs.
    std::uint64_t generation = 0;              // New on every attach: tells a restarted receiver apart.
  };

  // One copy of a frame in the air.
  struct InFlight {
    gossip::Endpoint from;
    gossip::Endpoint to;
    gossip::Channel channel;
    std::uint64_t generation;  // The receiver's generation when sent; checked for streams only.
    std::string frame;
  };

  const Faults& faults_for(const std::string& from_host, const std::string& to_host) const;
  bool draw(double probability);
  SimTimeMs draw_delay_ms(const Faults& faults);
  void launch(InFlight copy, const Faults& faults);
  void deliver(InFlight copy);
  ChannelStats& stats_of(gossip::Channel channel) {
    return channel == gossip::Channel::kStream ? stats_.stream : stats_.datagram;
  }
  static void count(Counter& counter, const std::string& frame) {
    ++counter.frames;
    counter.bytes += frame.size();
  }

  Scheduler& scheduler_;
  Rng rng_;
  Faults faults_;
  std::map<std::pair<std::string, std::string>, Faults> link_faults_;
  std::map<gossip::Endpoint, Attachment> receivers_;
  std::uint64_t next_generation_ = 1;
  // Host -> group index while partitioned; hosts absent from the map are in group `groups.size()`.
  std::map<std::string, std::size_t> group_of_host_;
  std::size_t unlisted_group_ = 0;
  bool partitioned_ = false;
  // The latest delivery time of a stream frame per (from, to): later stream frames never arrive earlier.
  std::map<std::pair<gossip::Endpoint, gossip::Endpoint>, SimTimeMs> last_stream_due_ms_;
  Stats stats_;
};

}  // namespace cairn::sim
