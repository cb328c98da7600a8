// The Node: wiring between the store, the gossip Peer (run on two lanes: a worker thread for the data
// lane, another for the membership lane, see gossip/peer.h) and the libuv transport (run on the event
// loop thread). This file keeps the node's lifecycle (open, stop, release) and that wiring; the lane
// thread is worker.h, reading options and secrets node_setup.h, and the published status
// status_publisher.h.
#include "cairn/node.h"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <system_error>

#include "gossip/peer.h"
#include "gossip/sealing.h"
#include "src/node/frame_drop_log.h"
#include "src/node/health.h"
#include "src/node/isolation_log.h"
#include "src/node/node_metrics.h"
#include "src/node/node_setup.h"
#include "src/node/protocol_snapshot.h"
#include "src/node/status_publisher.h"
#include "src/node/test_hooks.h"
#include "src/node/worker.h"
#include "src/net/event_loop.h"
#include "gossip/transport/uv_transport.h"
#include "src/http/listener.h"
#include "src/metrics/process_metrics.h"
#include "src/metrics/prometheus.h"
#include "src/resp/listener.h"
#include "src/server/client_listener.h"
#include "src/store/backup_stream.h"
#include "src/store/replica.h"
#include "src/util/hex_id.h"
#include "src/util/log.h"

namespace cairn {
namespace {

constexpr std::uint64_t kTickIntervalMs = 50;
// How long stop() waits for the protocol worker to post the leave announcement.
constexpr std::uint64_t kLeaveWaitMs = 2000;

class NodeImpl final : public Node {
 public:
  ~NodeImpl() override { stop(); }

  static Result<std::unique_ptr<Node>> create(const NodeOptions& options, node::NodeTestHooks hooks = {}) {
    std::unique_ptr<NodeImpl> node(new NodeImpl());
    // On a failure `node` is destroyed here, and stop() releases whatever open() had started.
    node->hooks_ = std::move(hooks);
    if (auto started = node->open(options); !started) return tl::unexpected(started.error());
    return std::unique_ptr<Node>(std::move(node));
  }

  Store& store() override { return *store_; }
  std::uint16_t gossip_port() const override { return port_; }
  std::uint16_t client_port() const override { return client_port_; }
  std::uint16_t resp_port() const override { return resp_port_; }
  std::uint16_t http_port() const override { return http_port_; }
  std::vector<MetricSample> metrics() override {
    std::vector<MetricSample> samples;
    {
      std::lock_guard lock(status_mutex_);
      node::add_protocol_metrics(snapshot_, samples);
      node::add_store_metrics(snapshot_.store_usage, samples);
    }
    if (clients_) node::add_client_metrics(clients_->stats(), samples);
    if (resp_) node::add_resp_metrics(resp_->stats(), samples);
    metrics::append_process_metrics(samples);
    return samples;
  }
  std::uint64_t replica_id() const override { return replica_id_.load(); }

  Status retire(std::uint64_t replica) override {
    if (stopped_ || !worker_ || !peer_) return fail(ErrorCode::kUnavailable, "the node is stopped");
    // The peer belongs to the protocol worker: ask there and wait (the worker runs every queued task,
    // also when stopping, so the answer always comes).
    auto answer = std::make_shared<std::promise<Status>>();
    std::future<Status> result = answer->get_future();
    if (!worker_->post([this, replica, answer] { answer->set_value(peer_->retire(gossip::PeerId{replica}, now_ms())); })) {
      return fail(ErrorCode::kUnavailable, "the node is too busy or stopping; try again");
    }
    return result.get();
  }

  // The published snapshot, with what changes between publications filled in now: isolation (from
  // the membership lane) and health (whose stall checks need the current time).
  NodeStatus status() override {
    node::HealthInputs inputs;
    NodeStatus status;
    {
      std::lock_guard lock(status_mutex_);
      status = snapshot_.status;
      inputs.writes = snapshot_.store_usage.writes;
      inputs.writes_failing_since_ms = snapshot_.writes_failing_since_ms;
    }
    add_live_inputs(inputs);
    status.isolated = inputs.isolated_since_ms.has_value();
    status.isolated_ms = status.isolated && inputs.now_ms > *inputs.isolated_since_ms
                             ? inputs.now_ms - *inputs.isolated_since_ms
                             : 0;
    node::Health health = node::assess_health(inputs);
    status.health = std::move(health.status);
    status.health_reasons = std::move(health.reasons);
    return status;
  }

  Status set_client_limits(const NodeLimits& limits) override {
    if (stopped_) return fail(ErrorCode::kUnavailable, "the node is stopped");
    if (!clients_) return fail(ErrorCode::kUnavailable, "the node serves no clients");
    return clients_->set_limits(client_limits_of(limits));
  }

  void stop() override {
    if (stopped_.exchange(true)) return;
    // Clients first: stop accepting, let the store calls already running finish (their writes are
    // committed), close the connections. Nothing calls the store from the client side after this.
    if (clients_) clients_->close();
    if (resp_) resp_->close();
    if (loop_running_) {
      // Announce the leave from the worker (which owns the peer) and wait until its frames are posted
      // to the loop: the loop's stop() runs every closure posted before it (so the datagrams go out)
      // and only then closes the sockets and ends its thread. A worker busy past kLeaveWaitMs (a huge
      // merge) is not waited for: the members then find this peer dead instead of left.
      auto left = std::make_shared<std::promise<void>>();
      std::future<void> leave_posted = left->get_future();
      if (worker_->post([this, left] {
            send(peer_->leave(now_ms()));
            left->set_value();
          })) {
        leave_posted.wait_for(std::chrono::milliseconds(kLeaveWaitMs));
      }
      loop_->post([this] {
        loop_->cancel(timer_);
        if (http_) http_->close();
      });
      loop_->stop();
    }
    release();
  }

 private:
  NodeImpl() = default;

  // Destroys what open() created, newest first; also after a start that failed half-way, when only
  // some of it exists. No thread runs the loop here (it ended, or never started), so the listeners and
  // the transport close from this thread, and the loop's destructor lets libuv finish closing them
  // before the store (and its lock) goes.
  void release() {
    http_.reset();
    resp_.reset();
    clients_.reset();
    if (membership_lane_) membership_lane_->stop();
    if (worker_) worker_->stop();  // Kept (stopped) so a late retire() finds it refusing tasks.
    transport_.reset();
    // A write a client session handed to the store posts its completion to the loop: let every one
    // finish while the loop still exists (post() drops closures once it stopped).
    if (store_) (void)store_->wait_for_queued_writes();
    loop_.reset();
    publisher_.reset();
    peer_.reset();
    store_.reset();
  }

  static server::ClientConnectionLimits client_limits_of(const NodeLimits& limits) {
    return {limits.max_client_connections, limits.max_client_frame_bytes, limits.max_client_requests_in_flight};
  }

  // Starts everything, in order: the store, the secrets, the sockets (on a loop not yet running), the
  // protocol, and last the loop thread. Returns the first failure; what was started before it is
  // released by stop() (see create()).
  Status open(const NodeOptions& options) {
    seeds_text_ = options.seeds;
    auto seeds = node::parse_seeds(options.seeds);
    if (!seeds) return tl::unexpected(seeds.error());
    if (auto opened = open_store(options); !opened) return opened;
    auto cluster_keys = node::cluster_keys_for(options);
    if (!cluster_keys) return tl::unexpected(cluster_keys.error());
    if (options.insecure) {
      log::warn("security", "running INSECURE: peer traffic is neither encrypted nor authenticated; anyone who "
                            "can reach the gossip port can join, read and write");
    }
    if (options.serve_clients || options.serve_resp) {
      auto token = node::client_token_for(options);
      if (!token) return tl::unexpected(token.error());
      client_token_ = std::move(*token);
    }
    if (auto bound = bind_ports(options); !bound) return bound;
    return start_protocol(options, std::move(*seeds), std::move(*cluster_keys));
  }

  // Opens the store and takes its replica id (a copied directory took a new one on open: logged).
  Status open_store(const NodeOptions& options) {
    auto store = store::open_replica(options.data_dir, store::ReplicaOptions{options.store, nullptr});
    if (!store) return tl::unexpected(store.error());
    store_ = std::move(*store);
    if (hooks_.store_opened) hooks_.store_opened(*store_);
    replica_id_ = store_->replica_id();
    node::log_identity_change(store_->identity().last_change);  // A copied directory took a new id on open.
    return ok();
  }

  // Creates the event loop (not running yet) and binds the gossip, HTTP and client ports on it. Each
  // failure names the port, its address and the reason.
  Status bind_ports(const NodeOptions& options) {
    auto loop = net::EventLoop::create();
    if (!loop) return fail(loop.error().code(), "event loop: " + loop.error().message());
    loop_ = std::move(*loop);
    transport::UvTransportOptions transport_options;
    transport_options.max_inbound_connections = options.limits.max_peer_connections;
    transport_options.max_frame_payload_bytes = options.limits.max_peer_frame_bytes;
    transport_ = std::make_unique<transport::UvTransport>(*loop_, transport_options);
    if (auto listening = transport_->listen(options.listen_host, options.gossip_port); !listening) {
      return fail(listening.error().code(), "gossip port " + listening.error().message());
    }
    port_ = transport_->port();
    if (options.serve_http) {
      if (auto started = start_http(options); !started) return started;
    }
    if (options.serve_clients) {
      if (auto started = start_client_listener(options); !started) return started;
    }
    if (options.serve_resp) {
      if (auto started = start_resp_listener(options); !started) return started;
    }
    return ok();
  }

  // Creates the gossip peer and its worker, starts the loop thread, and only then gives the worker its
  // first task, the peer's start, and wires the transport's frames and the tick timer to the worker
  // (on the loop). So nothing is queued on a loop that might never run, and the start comes first.
  Status start_protocol(const NodeOptions& options, std::vector<gossip::Endpoint> seeds,
                        std::vector<gossip::ClusterKey> cluster_keys) {
    gossip::PeerOptions peer_options;
    peer_options.cluster_name = options.cluster_name;
    peer_options.gossip_interval_ms = options.gossip_interval_ms;
    peer_options.membership.protocol_period_ms = options.protocol_period_ms;
    peer_options.membership.suspicion_timeout_ms = options.suspicion_timeout_ms;
    peer_options.stability.retire_after_ms = options.retire_after_ms;
    peer_options.max_frame_payload_bytes = options.limits.max_peer_frame_bytes;
    peer_options.membership.max_members = options.limits.max_members;
    peer_options.dissemination.max_entries_per_push = options.limits.max_delta_batch_entries;
    peer_options.dissemination.max_bytes_per_push = options.limits.max_delta_batch_bytes;
    peer_options.security.cluster_keys = std::move(cluster_keys);
    peer_options.security.insecure = options.insecure;
    const std::string advertised = options.advertise_host.empty() ? options.listen_host : options.advertise_host;
    std::random_device random;
    peer_ = std::make_unique<gossip::Peer>(gossip::Endpoint{advertised == "localhost" ? "127.0.0.1" : advertised, port_},
                                           *store_, seeds, peer_options,
                                           (static_cast<std::uint64_t>(random()) << 32) ^ random());
    isolation_log_.emplace(options.seeds, node::IsolationLogOptions{
                                              .seed_retry_ms = peer_options.membership.rejoin_seed_interval_ms});
    try {
      worker_ = std::make_unique<node::Worker>();
      membership_lane_ = std::make_unique<node::Worker>();
    } catch (const std::system_error& error) {
      return fail(ErrorCode::kUnavailable, std::string("cannot start the protocol threads: ") + error.what());
    }
    if (auto started = loop_->start(); !started) return started;
    loop_running_ = true;
    publisher_ = std::make_unique<node::StatusPublisher>(
        node::StatusPublisher::Borrowed{*peer_, *store_, replica_id_, frames_dropped_busy_}, port_, seeds_text_,
        now_ms());
    worker_->post([this] {
      send(peer_->start(now_ms()));
      peer_started_ = true;
      publish_status();
    });
    loop_->post([this] { feed_lanes(); });
    return ok();
  }

  // On the loop: hands every received frame to its lane, and a tick every kTickIntervalMs to each lane.
  void feed_lanes() {
    // Datagrams are membership's (and small reports); streams carry deltas and anti-entropy.
    transport_->set_receiver([this](std::string frame, gossip::Channel channel, const std::string& from) {
      if (channel == gossip::Channel::kDatagram) {
        receive_datagram(std::move(frame), from);
      } else {
        receive_stream_frame(std::move(frame), from);
      }
    });
    timer_ = loop_->every(kTickIntervalMs, [this] { schedule_ticks(); });
  }

  // Any thread: what health needs beyond the snapshot: the time, the seeds, the lanes' last progress
  // and isolation (all atomics, set by the lanes).
  void add_live_inputs(node::HealthInputs& inputs) const {
    inputs.now_ms = now_ms();
    inputs.seeds = seeds_text_;
    inputs.data_lane_progress_ms = data_lane_progress_ms_.load();
    inputs.membership_lane_progress_ms = membership_lane_progress_ms_.load();
    const std::uint64_t isolated_since = isolated_since_ms_.load();
    if (isolated_since != kNotIsolated) inputs.isolated_since_ms = isolated_since;
  }

  // On the loop thread: one tick per lane, unless that lane has not run its previous one yet (a lane
  // busy for seconds must not come back to a queue of stale ticks).
  void schedule_ticks() {
    if (!membership_tick_pending_.exchange(true) &&
        !membership_lane_->post([this] {
          membership_tick_pending_ = false;
          run_membership_tick();
        })) {
      membership_tick_pending_ = false;
    }
    if (!data_tick_pending_.exchange(true) && !worker_->post([this] {
          data_tick_pending_ = false;
          send(peer_->data_tick(now_ms()));
          publish_status();
        })) {
      data_tick_pending_ = false;
    }
  }

  // On the loop thread. Failure detection runs on the membership lane, so a ping is answered while
  // the data lane merges a 16 MiB delta or waits for an fsync; anything else goes on to the data lane.
  void receive_datagram(std::string frame, const std::string& from) {
    const bool posted = membership_lane_->post([this, frame = std::move(frame), from]() mutable {
      gossip::OpenedFrame opened = peer_->open_frame(frame, gossip::Lane::kMembership);
      if (!opened.envelope) return refuse(from, std::move(opened));
      if (auto answer = peer_->on_membership_message(*opened.envelope, now_ms())) return send(std::move(*answer));
      const std::size_t bytes = frame.size();
      if (!worker_->post([this, envelope = std::move(*opened.envelope), bytes] {
            send(peer_->on_envelope(envelope, bytes, now_ms()));
          })) {
        dropped_busy();
      }
    });
    if (!posted) dropped_busy();
  }

  // On the loop thread: a stream frame goes to the data lane.
  void receive_stream_frame(std::string frame, const std::string& from) {
    if (!worker_->post([this, frame = std::move(frame), from] {
          if (hooks_.before_stream_frame) hooks_.before_stream_frame(frame.size());
          gossip::OpenedFrame opened = peer_->open_frame(frame, gossip::Lane::kData);
          if (!opened.envelope) return refuse(from, std::move(opened));
          send(peer_->on_envelope(*opened.envelope, frame.size(), now_ms()));
        })) {
      dropped_busy();
    }
  }

  // On the membership lane: the failure detector's timers, then whether this peer reaches anybody.
  void run_membership_tick() {
    if (!peer_started_) return;  // Peer::start() (on the data lane) has not joined yet.
    const std::uint64_t now = now_ms();
    send(peer_->membership_tick(now));
    const gossip::Peer::MembershipView view = peer_->membership_view();
    membership_changes_.log_changes(view.members);
    const std::optional<std::uint64_t> isolated = view.isolated_since_ms;
    isolated_since_ms_ = isolated ? *isolated : kNotIsolated;
    if (auto line = isolation_log_->update(isolated, now)) {
      if (line->warning) {
        log::warn("membership", line->text);
      } else {
        log::info("membership", line->text);
      }
    }
    membership_lane_progress_ms_ = now;
  }

  // On either lane: a dropped frame, logged, and the answer that tells its sender why (a peer with another
  // partition count: gossip::Peer::open_frame).
  void refuse(const std::string& from, gossip::OpenedFrame opened) {
    if (!opened.replies.empty()) send(std::move(opened.replies));
    log_drop(from, *opened.dropped);
  }

  // On either lane: a refused frame, in the log at a bounded rate.
  void log_drop(const std::string& from, const gossip::FrameDrop& drop) {
    if (auto line = drop_log_.on_drop(from, drop, now_ms())) log::warn("gossip", *line);
  }

  // On the loop thread or a lane: a frame dropped because a lane's queue is full.
  void dropped_busy() {
    ++frames_dropped_busy_;
    if (auto line = drop_log_.on_queue_full(now_ms())) log::warn("gossip", *line);
  }
  // Binds the HTTP listener (/health, /metrics). Its handler runs on the loop thread and reads only
  // the published snapshot, never the store.
  Status start_http(const NodeOptions& options) {
    http::HttpListener::Handler health = [this](const http::HttpRequest& request) {
      const NodeStatus now = status();
      http::HttpResponse response;
      response.status =
          node::health_http_status(node::Health{now.health, now.health_reasons}, node::strict_health_requested(request.query));
      response.content_type = "application/json";
      response.body =
          nlohmann::ordered_json{{"status", now.health}, {"reasons", now.health_reasons}, {"replica", hex_id(replica_id_)}}
              .dump();
      return response;
    };
    http::HttpListener::Handler metrics_page = [this](const http::HttpRequest&) {
      http::HttpResponse response;
      response.content_type = std::string(metrics::kPrometheusContentType);
      response.body = metrics::render_prometheus(metrics());
      return response;
    };
    auto listener = http::HttpListener::start(*loop_, options.client_host, options.http_port,
                                              http::route({{"/health", health}, {"/metrics", metrics_page}}));
    if (!listener) {
      return fail(listener.error().code(), "HTTP port " + listener.error().message());
    }
    http_ = std::move(*listener);
    http_port_ = http_->port();
    return ok();
  }

  // Binds the client protocol listener; its store calls run on its own worker pool.
  Status start_client_listener(const NodeOptions& options) {
    server::Services services{*store_, [this] { return status(); }, [this] { return metrics(); },
                              [this](std::uint64_t replica) { return retire(replica); },
                              [this] { return store::open_backup_stream(*store_); }};
    server::ClientListenerOptions limits;
    limits.client_token = client_token_;
    const server::ClientConnectionLimits connection_limits = client_limits_of(options.limits);
    limits.max_connections = connection_limits.max_connections;
    limits.max_frame_payload_bytes = connection_limits.max_frame_payload_bytes;
    limits.max_in_flight_requests = connection_limits.max_in_flight_requests;
    auto listener =
        server::ClientListener::start(*loop_, options.client_host, options.client_port, services, limits);
    if (!listener) {
      return fail(listener.error().code(), "client port " + listener.error().message());
    }
    clients_ = std::move(*listener);
    client_port_ = clients_->port();
    return ok();
  }

  // Binds the RESP2 listener (docs/resp.md); AUTH takes the client token, and its store calls run on
  // its own worker pool.
  Status start_resp_listener(const NodeOptions& options) {
    resp::RespListenerOptions resp_options;
    resp_options.session.client_token = client_token_;
    resp_options.max_connections = options.limits.max_client_connections;
    resp_options.status = [this] { return status(); };
    resp_options.metrics = [this] { return metrics(); };
    auto listener = resp::RespListener::start(*loop_, options.client_host, options.resp_port, *store_,
                                              std::move(resp_options));
    if (!listener) return fail(listener.error().code(), "RESP port " + listener.error().message());
    resp_ = std::move(*listener);
    resp_port_ = resp_->port();
    return ok();
  }

  // On the worker: hands frames to the loop thread for sending.
  void send(std::vector<gossip::OutgoingFrame> frames) {
    if (frames.empty()) return;
    loop_->post([this, frames = std::move(frames)]() mutable {
      for (gossip::OutgoingFrame& frame : frames) transport_->send(std::move(frame));
    });
  }

  std::uint64_t now_ms() const { return node::steady_now_ms(); }

  // On the worker: refreshes the snapshot status() and metrics() read. The store usage is carried over
  // from the last publication (under the lock) for the publisher to refresh when it is due.
  void publish_status() {
    const std::uint64_t now = now_ms();
    node::ProtocolSnapshot snapshot = publisher_->describe(now);
    {
      std::lock_guard lock(status_mutex_);
      snapshot.store_usage = snapshot_.store_usage;
      snapshot.store_usage_at_ms = snapshot_.store_usage_at_ms;
    }
    publisher_->finish(snapshot, now);
    {
      std::lock_guard lock(status_mutex_);
      snapshot_ = std::move(snapshot);
    }
    data_lane_progress_ms_ = now;
  }

  std::unique_ptr<store::Replica> store_;
  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<transport::UvTransport> transport_;
  std::unique_ptr<http::HttpListener> http_;
  std::unique_ptr<server::ClientListener> clients_;
  std::unique_ptr<resp::RespListener> resp_;
  std::unique_ptr<gossip::Peer> peer_;
  std::unique_ptr<node::Worker> worker_;           // The data lane: everything that may wait for the store.
  std::unique_ptr<node::Worker> membership_lane_;  // SWIM's failure detection; never waits for the store.
  std::unique_ptr<node::StatusPublisher> publisher_;  // Data lane only; borrows peer_ and store_.
  node::NodeTestHooks hooks_;
  net::EventLoop::TimerId timer_ = 0;  // The tick; set and cancelled on the loop thread only.
  std::uint16_t port_ = 0;
  std::uint16_t http_port_ = 0;
  std::uint16_t client_port_ = 0;
  std::uint16_t resp_port_ = 0;
  std::atomic<std::uint64_t> replica_id_{0};  // Changes if the cluster retires this peer.
  std::string client_token_;  // What clients must present; set when serving clients.
  std::atomic<std::uint64_t> frames_dropped_busy_{0};
  std::atomic<bool> stopped_{false};
  bool loop_running_ = false;  // The loop thread was started (set once by open()).
  std::mutex status_mutex_;
  node::ProtocolSnapshot snapshot_;
  node::MembershipChangeLog membership_changes_;  // Membership lane only.

  // Lanes and health. Set on the lanes, read by status() on any thread.
  static constexpr std::uint64_t kNotIsolated = UINT64_MAX;
  std::atomic<bool> peer_started_{false};
  std::atomic<bool> membership_tick_pending_{false};
  std::atomic<bool> data_tick_pending_{false};
  std::atomic<std::uint64_t> data_lane_progress_ms_{0};        // When the data lane last published.
  std::atomic<std::uint64_t> membership_lane_progress_ms_{0};  // When the membership lane last ticked.
  std::atomic<std::uint64_t> isolated_since_ms_{kNotIsolated};
  std::vector<std::string> seeds_text_;  // As configured; set before the lanes start.
  node::FrameDropLog drop_log_;          // Thread-safe.
  std::optional<node::IsolationLog> isolation_log_;  // Membership lane only.
};

}  // namespace

Result<std::unique_ptr<Node>> Node::start(const NodeOptions& options) { return NodeImpl::create(options); }

Result<std::unique_ptr<Node>> node::start_node_with_test_hooks(const NodeOptions& options, node::NodeTestHooks hooks) {
  return NodeImpl::create(options, std::move(hooks));
}

}  // namespace cairn
