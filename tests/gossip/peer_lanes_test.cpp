// gossip::Peer driven as cairn::Node drives it: two threads per peer, the membership lane taking the
// datagrams and the failure detector's timers, the data lane everything that calls the store (peer.h).
// The lanes of one peer run at once, so these tests (also run under ASan and UBSan in CI) exercise the
// locking between them; and a data lane made slow on every delta push must not make the peer look dead.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gossip/peer.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::gossip {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count());
}

// One thread running tasks in order.
class LaneThread {
 public:
  LaneThread() : thread_([this] { run(); }) {}
  ~LaneThread() { stop(); }
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (stopping_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

PeerOptions fast_options() {
  PeerOptions options;
  options.cluster_name = "lanes";
  options.gossip_interval_ms = 20;
  options.membership.protocol_period_ms = 100;
  options.membership.ping_timeout_ms = 40;
  options.membership.suspicion_timeout_ms = 300;
  ClusterKey key{};
  key.fill(7);
  options.security.cluster_keys = {key};
  return options;
}

class LanedNet;

// A peer with its store and its two lanes.
struct LanedPeer {
  test::TempDir dir;
  std::unique_ptr<store::Replica> store = test::open_store(dir.str());
  std::unique_ptr<Peer> peer;
  std::chrono::milliseconds slow_push{0};  // How long the data lane takes over each delta push.
  LaneThread membership;
  LaneThread data;
};

class LanedNet {
 public:
  ~LanedNet() { stop(); }

  LanedPeer& add(std::uint8_t index, std::vector<Endpoint> seeds) {
    auto& slot = peers_.emplace_back(std::make_unique<LanedPeer>());
    slot->peer = std::make_unique<Peer>(Endpoint{"10.0.0." + std::to_string(index), 7400}, *slot->store,
                                        std::move(seeds), fast_options(), index);
    return *slot;
  }

  void start() {
    for (auto& slot : peers_) {
      LanedPeer* p = slot.get();
      p->data.post([this, p] { send(p->peer->start(now_ms())); });
    }
    ticker_ = std::thread([this] {
      while (!stopping_) {
        for (auto& slot : peers_) {
          LanedPeer* p = slot.get();
          p->membership.post([this, p] { send(p->peer->membership_tick(now_ms())); });
          p->data.post([this, p] { send(p->peer->data_tick(now_ms())); });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }

  void stop() {
    stopping_ = true;
    if (ticker_.joinable()) ticker_.join();
    for (auto& slot : peers_) {
      slot->membership.stop();
      slot->data.stop();
    }
  }

 private:
  // Routes like cairn::Node: datagrams to the membership lane (passing on what is not its), stream
  // frames to the data lane.
  void send(std::vector<OutgoingFrame> frames) {
    for (OutgoingFrame& frame : frames) {
      for (auto& slot : peers_) {
        if (slot->peer->endpoint() != frame.to) continue;
        LanedPeer* p = slot.get();
        if (frame.channel == Channel::kDatagram) {
          p->membership.post([this, p, bytes = std::move(frame.bytes)] {
            OpenedFrame opened = p->peer->open_frame(bytes, Lane::kMembership);
            if (!opened.envelope) return;
            if (auto answer = p->peer->on_membership_message(*opened.envelope, now_ms())) return send(std::move(*answer));
            p->data.post([this, p, envelope = std::move(*opened.envelope), size = bytes.size()] {
              send(p->peer->on_envelope(envelope, size, now_ms()));
            });
          });
        } else {
          p->data.post([this, p, bytes = std::move(frame.bytes)] {
            OpenedFrame opened = p->peer->open_frame(bytes, Lane::kData);
            if (!opened.envelope) return;
            if (std::holds_alternative<DeltaPush>(opened.envelope->body)) std::this_thread::sleep_for(p->slow_push);
            send(p->peer->on_envelope(*opened.envelope, bytes.size(), now_ms()));
          });
        }
      }
    }
  }

  std::vector<std::unique_ptr<LanedPeer>> peers_;
  std::atomic<bool> stopping_{false};
  std::thread ticker_;
};

bool sees_alive(const Peer& observer, PeerId member) {
  const auto members = observer.membership().members();
  auto it = members.find(member);
  return it != members.end() && it->second.status == MemberStatus::kAlive;
}

TEST_CASE("peer lanes: a peer whose data lane is slow on every push keeps answering pings and stays alive") {
  LanedNet net;
  LanedPeer& a = net.add(1, {});
  LanedPeer& b = net.add(2, {Endpoint{"10.0.0.1", 7400}});
  LanedPeer& c = net.add(3, {Endpoint{"10.0.0.1", 7400}});
  // Each push takes b twice the suspicion timeout: with pings queued behind it, b would be declared
  // dead by a and c within one push.
  b.slow_push = std::chrono::milliseconds(600);
  net.start();
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  const auto everyone_alive = [&] {
    return sees_alive(*a.peer, b.peer->id()) && sees_alive(*a.peer, c.peer->id()) &&
           sees_alive(*c.peer, b.peer->id()) && sees_alive(*b.peer, a.peer->id());
  };
  while (!everyone_alive() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(everyone_alive());

  for (int i = 0; i < 5; ++i) REQUIRE(a.store->put("k" + std::to_string(i), "v"));
  bool ever_dead = false;
  // Watch for a few suspicion timeouts, and until the slow pushes have arrived.
  const auto watched = Clock::now() + std::chrono::milliseconds(2'500);
  const auto give_up = Clock::now() + std::chrono::seconds(20);
  while ((Clock::now() < watched || !b.store->get("k4").has_value()) && Clock::now() < give_up) {
    for (const LanedPeer* observer : {&a, &c}) {
      const auto members = observer->peer->membership().members();
      auto it = members.find(b.peer->id());
      ever_dead = ever_dead || (it != members.end() && it->second.status == MemberStatus::kDead);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  net.stop();
  CHECK_FALSE(ever_dead);
  CHECK(b.store->get("k4").has_value());  // The slow pushes did arrive.
  CHECK(a.peer->membership().stats().deaths == 0);
  CHECK(c.peer->membership().stats().deaths == 0);
}

}  // namespace
}  // namespace cairn::gossip
