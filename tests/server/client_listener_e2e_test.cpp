// The client listener on a real EventLoop and a real store, with real clients over loopback TCP.
#include "src/server/client_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cairn/client.h"
#include "src/net/event_loop.h"
#include "gossip/wire.h"
#include "tests/e2e/store_polling.h"
#include "tests/server/protocol_test_support.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

using protocol::Request;
using protocol::Response;

// A listener on 127.0.0.1, an ephemeral port, serving a fresh store (not fsynced: these tests are
// about the protocol, and CI runs them on slow disks).
class Served {
 public:
  // `retire` stands in for Node::retire (none by default: retire requests are unsupported).
  explicit Served(ClientListenerOptions options = {}, std::function<Status(std::uint64_t)> retire = {})
      : store_(test::open_store(dir_.str(), StoreOptions{.durability = Durability::kNoSync})) {
    auto loop = net::EventLoop::create();
    REQUIRE(loop.has_value());
    loop_ = std::move(*loop);
    REQUIRE(loop_->start());
    Services services{*store_, [] {
          NodeStatus status;
          status.replica_id = 1;
          status.gossip_port = 7400;
          status.address = "127.0.0.1:7400";
          return status;
        }, {}, std::move(retire)};
    auto listener = ClientListener::start(*loop_, "127.0.0.1", 0, services, options);
    INFO((listener ? std::string("listening") : listener.error().to_string()));
    REQUIRE(listener.has_value());
    listener_ = std::move(*listener);
  }
  ~Served() {
    listener_->close();
    loop_->stop();
    listener_.reset();
    loop_.reset();
  }

  Store& store() { return *store_; }
  ClientListener& listener() { return *listener_; }
  ClientOptions client_options() const { return ClientOptions{"127.0.0.1", listener_->port(), 10'000, ""}; }

  std::unique_ptr<Client> connect() const {
    auto client = Client::connect(client_options());
    INFO((client ? std::string("connected") : client.error().to_string()));
    REQUIRE(client.has_value());
    return std::move(*client);
  }

 private:
  test::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<ClientListener> listener_;
};

// A plain blocking socket, for writing raw (and broken) frames; tests only.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~RawConnection() { ::close(fd_); }

  // Half-closes: the peer sees the end of our input but can still answer.
  void finish_writing() { REQUIRE(::shutdown(fd_, SHUT_WR) == 0); }

  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      REQUIRE(sent > 0);
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  // Reads until `count` responses arrived or the peer closed; `closed` says whether it did.
  std::vector<Response> read(std::size_t count, bool* closed = nullptr) {
    std::vector<Response> responses;
    char buffer[65536];
    while (responses.size() < count) {
      const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) {
        if (closed != nullptr) *closed = true;
        break;
      }
      input_.append(buffer, static_cast<std::size_t>(got));
      for (Response& response : test::take_responses(input_)) responses.push_back(std::move(response));
    }
    return responses;
  }

 private:
  int fd_ = -1;
  std::string input_;
};

TEST_CASE("client listener: every client operation end to end") {
  Served served;
  auto client = served.connect();
  REQUIRE(client->put("k", "v"));
  CHECK(client->get("k")->value == "v");
  CHECK(client->kind("k").value() == ValueKind::kRegister);
  CHECK(client->get("absent").error().code() == ErrorCode::kNotFound);
  REQUIRE(client->sadd("s", {"a", "b"}));
  REQUIRE(client->srem("s", {"a"}));
  CHECK_FALSE(client->sismember("s", "a").value());
  CHECK(client->sismember("s", "b").value());
  CHECK(client->get("s").error().code() == ErrorCode::kWrongType);
  REQUIRE(client->incr("c", 10));
  REQUIRE(client->decr("c", 3));
  CHECK(client->counter("c").value() == 7);
  auto inspection = client->inspect("k");
  REQUIRE(inspection);
  CHECK(inspection->versions.size() == 1);
  CHECK(inspection->writing_replica == served.store().replica_id());
  std::vector<std::string> keys;
  REQUIRE(client->scan("", [&](const std::string& key) {
    keys.push_back(key);
    return true;
  }));
  CHECK(keys == std::vector<std::string>{"c", "k", "s"});
  CHECK(client->status()->replica_id == 1);
  CHECK(client->stats().error().code() == ErrorCode::kUnsupported);  // This test serves no metrics.
  REQUIRE(client->del("k"));
  CHECK(client->get("k").error().code() == ErrorCode::kNotFound);
  CHECK(served.listener().stats().requests_by_op["put"] == 1);
}

TEST_CASE("client listener: Client::retire reaches the node's callback and returns its error") {
  std::atomic<std::uint64_t> asked{0};
  Served served({}, [&](std::uint64_t replica) -> Status {
    asked = replica;
    if (replica == 0xdead) return ok();
    if (replica == 0xa11e) return fail(ErrorCode::kInvalidArgument, "member 000000000000a11e is reachable: stop it");
    return fail(ErrorCode::kNotFound, "no member is known here");
  });
  auto client = served.connect();
  REQUIRE(client->retire(0xdead));
  CHECK(asked == 0xdead);
  CHECK(client->retire(0xa11e).error() ==
        Error(ErrorCode::kInvalidArgument, "member 000000000000a11e is reachable: stop it"));
  CHECK(client->retire(0x5).error().code() == ErrorCode::kNotFound);
  CHECK(client->get("absent").error().code() == ErrorCode::kNotFound);  // The connection still serves.
  CHECK(served.listener().stats().requests_by_op["retire"] == 3);
}

TEST_CASE("client listener: Client::retire of a peer that cannot retire is unsupported") {
  Served served;
  CHECK(served.connect()->retire(0xdead).error().code() == ErrorCode::kUnsupported);
}

TEST_CASE("client listener: a value of the largest size goes both ways and one byte more is refused") {
  Served served;
  auto client = served.connect();
  const std::string largest(kMaxValueBytes, 'x');
  REQUIRE(client->put("big", largest));
  CHECK(client->get("big")->value == largest);
  CHECK(client->put("big", largest + "x").error().code() == ErrorCode::kLimitExceeded);
  CHECK(client->get("big")->value.size() == kMaxValueBytes);  // The connection still serves.
  // The listener counts bytes out when the kernel has taken them (its write callback), which may come
  // after the client already read the reply: wait for the counters rather than read them once.
  const auto counted = [&] {
    const ClientListenerStats stats = served.listener().stats();
    return stats.bytes_in > 2 * kMaxValueBytes && stats.bytes_out > 2 * kMaxValueBytes;
  };
  CHECK(cairn::test::eventually(counted, std::chrono::seconds(10)));
}

TEST_CASE("client listener: a refused connection says where it tried") {
  ClientOptions options{"127.0.0.1", 0, 2000, ""};
  {
    Served served;
    options.port = served.listener().port();
  }  // Closed: nothing listens there now.
  auto client = Client::connect(options);
  REQUIRE_FALSE(client.has_value());
  CHECK(client.error().code() == ErrorCode::kUnavailable);
  CHECK(client.error().message().find("cannot connect to 127.0.0.1:" + std::to_string(options.port)) == 0);
}

TEST_CASE("client listener: many clients at once") {
  Served served;
  constexpr int kClients = 16, kIncrements = 100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = Client::connect(served.client_options());
      if (!client) return void(++failures);
      for (int i = 0; i < kIncrements; ++i) {
        if (!(*client)->incr("shared") || !(*client)->put("own/" + std::to_string(c), std::to_string(i))) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(served.store().counter("shared").value() == kClients * kIncrements);
  CHECK(served.store().get("own/3")->value == std::to_string(kIncrements - 1));
  const ClientListenerStats stats = served.listener().stats();
  CHECK(stats.connections_accepted == kClients);
  CHECK(stats.requests_by_op.at("incr") == kClients * kIncrements);
}

TEST_CASE("client listener: pipelined raw frames are answered in order") {
  Served served;
  RawConnection raw(served.listener().port());
  std::string bytes;
  constexpr std::uint64_t kRequests = 500;
  for (std::uint64_t id = 1; id <= kRequests; ++id) {
    bytes += protocol::encode_request_frame(Request{id, protocol::Put{"p" + std::to_string(id % 7), "v"}});
  }
  raw.write(bytes);
  auto replies = raw.read(kRequests);
  REQUIRE(replies.size() == kRequests);
  for (std::uint64_t i = 0; i < kRequests; ++i) {
    CHECK(replies[i].id == i + 1);
    test::body_of<protocol::Done>(replies[i]);
  }
}

TEST_CASE("client listener: a client that half-closes still gets every reply, then the connection closes") {
  ClientListenerOptions options;
  options.max_in_flight_requests = 4;  // Most requests are still held back when the input ends.
  Served served(options);
  REQUIRE(served.store().sadd("s", {"a", "b", "c"}));
  RawConnection raw(served.listener().port());
  std::string bytes;
  for (std::uint64_t id = 1; id <= 20; ++id) bytes += protocol::encode_request_frame(Request{id, protocol::Incr{"n", 1}});
  bytes += protocol::encode_request_frame(Request{21, protocol::Smembers{"s"}});
  bytes += protocol::encode_request_frame(Request{22, protocol::Watch{""}});
  raw.write(bytes);
  raw.finish_writing();
  bool closed = false;
  auto replies = raw.read(1000, &closed);
  CHECK(closed);
  // 20 incr, one smembers batch, then the watch: ended before it started when the input's end was seen
  // before the watch was decoded, else started (one reply) and ended by the input's end (one more).
  // Writes are answered as soon as their commit is done, so either order happens.
  REQUIRE((replies.size() == 22 || replies.size() == 23));
  if (replies.size() == 23) CHECK(replies[21].id == 22);
  CHECK(replies[19].id == 20);
  CHECK(test::body_of<protocol::Items>(replies[20]).items.size() == 3);
  CHECK(replies.back().id == 22);
  CHECK_FALSE(replies.back().more);
  CHECK(served.store().counter("n").value() == 20);
}

// Writes hold no thread, so every write pending when a commit starts joins it: with 50 connections
// pipelining 16 puts each, commits hold more than the 8 a worker-per-write listener could give them.
TEST_CASE("client listener: 50 connections pipelining 16 puts share commits, more than 8 writes each on average") {
  Served served;
  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int c = 0; c < 50; ++c) connections.push_back(std::make_unique<RawConnection>(served.listener().port()));
  auto before = served.store().usage();
  REQUIRE(before);
  for (int round = 0; round < 4; ++round) {
    for (int c = 0; c < 50; ++c) {
      std::string bytes;
      for (int i = 0; i < 16; ++i) {
        const std::string key = "c" + std::to_string(c) + "-" + std::to_string(i);
        bytes += protocol::encode_request_frame(Request{static_cast<std::uint64_t>(round * 16 + i + 1), protocol::Put{key, "v"}});
      }
      connections[c]->write(bytes);
    }
    for (int c = 0; c < 50; ++c) {
      auto replies = connections[c]->read(16);
      REQUIRE(replies.size() == 16);
      for (const Response& reply : replies) CHECK(std::holds_alternative<protocol::Done>(reply.body));
    }
  }
  auto after = served.store().usage();
  REQUIRE(after);
  const std::uint64_t commits = after->commits - before->commits;
  const std::uint64_t writes = after->committed_writes - before->committed_writes;
  std::printf("client listener: %llu writes in %llu commits\n", static_cast<unsigned long long>(writes),
              static_cast<unsigned long long>(commits));
  CHECK(writes == 50 * 16 * 4);
  REQUIRE(commits > 0);
  CHECK(static_cast<double>(writes) / static_cast<double>(commits) > 8.0);
}

TEST_CASE("client listener: smembers of a 100000-member set streams in batches") {
  Served served;
  constexpr int kMembers = 100'000;
  std::vector<std::string> batch;
  for (int i = 0; i < kMembers; ++i) {
    batch.push_back("member-" + std::to_string(1'000'000 + i));
    if (batch.size() == 10'000) {
      REQUIRE(served.store().sadd("big", batch));
      batch.clear();
    }
  }
  auto client = served.connect();
  int count = 0;
  std::string previous;
  bool ordered = true;
  REQUIRE(client->smembers("big", [&](const std::string& member) {
    ordered = ordered && member > previous;
    previous = member;
    ++count;
    return true;
  }));
  CHECK(count == kMembers);
  CHECK(ordered);

  // Stopping early cancels the rest; the connection goes on serving.
  int seen = 0;
  REQUIRE(client->smembers("big", [&](const std::string&) { return ++seen < 10; }));
  CHECK(seen == 10);
  auto inspection = client->inspect("big");
  REQUIRE(inspection);
  CHECK(inspection->member_count == kInspectMaxMembersCounted);
  CHECK_FALSE(inspection->member_count_capped);  // Exactly at the cap: all were counted.
  CHECK(inspection->members.size() == kInspectMaxMembersListed);
}

TEST_CASE("client listener: a watch sees local writes as they happen") {
  Served served;
  auto watcher = served.connect();
  std::atomic<bool> done{false};
  std::vector<WatchEvent> events;
  Status watched;
  std::thread watching([&] {  // Catch assertions stay on the test's thread.
    watched = watcher->watch("w/", [&](const WatchEvent& event) {
      events.push_back(event);
      return event.key != "w/last";
    });
    done = true;
  });
  auto writer = served.connect();
  // The watch may not be registered yet when the first writes land: keep writing until it sees one.
  for (int i = 0; i < 500 && !done; ++i) {
    REQUIRE(writer->put("w/" + std::to_string(i), "v"));
    REQUIRE(writer->put("ignored", "v"));
    if (i >= 20) REQUIRE(writer->put("w/last", "v"));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  watching.join();
  REQUIRE(done);
  CHECK(watched.has_value());
  REQUIRE_FALSE(events.empty());
  for (const WatchEvent& event : events) {
    CHECK(event.key.starts_with("w/"));
    CHECK(event.local);
  }
  // The watching connection still works after the watch ended.
  CHECK(watcher->get("w/last")->value == "v");
}

TEST_CASE("client listener: malformed requests get error replies and the listener goes on serving others") {
  Served served;
  auto good = served.connect();
  REQUIRE(good->put("k", "v"));

  RawConnection raw(served.listener().port());
  gossip::FrameHeader header;
  header.type = gossip::FrameType::kClientRequest;
  header.payload_length = 16;
  raw.write(gossip::encode_frame_header(header) + std::string(16, '\x55'));  // Not a Request message.
  raw.write(protocol::encode_request_frame(Request{9, protocol::Get{"k"}}));
  auto replies = raw.read(2);
  REQUIRE(replies.size() == 2);
  CHECK(test::error_of(replies[0]).code() == ErrorCode::kProtocol);
  CHECK(test::body_of<RegisterValue>(replies[1]).value == "v");

  raw.write(std::string(100, 'G'));  // Not a frame at all: error reply, then the connection closes.
  bool closed = false;
  replies = raw.read(2, &closed);
  REQUIRE(replies.size() == 1);
  CHECK(test::error_of(replies[0]).code() == ErrorCode::kProtocol);
  CHECK(closed);

  CHECK(good->get("k")->value == "v");
  const ClientListenerStats stats = served.listener().stats();
  CHECK(stats.bad_frames_by_reason.at("undecodable") == 1);
  CHECK(stats.bad_frames_by_reason.at("bad_magic") == 1);
}

TEST_CASE("client listener: connections over the limit are closed and counted") {
  ClientListenerOptions options;
  options.max_connections = 2;
  Served served(options);
  auto first = served.connect();
  auto second = served.connect();
  REQUIRE(first->put("a", "1"));
  REQUIRE(second->put("b", "1"));
  auto third = Client::connect(served.client_options());
  if (third) CHECK_FALSE((*third)->put("c", "1"));  // Accepted by the kernel, then closed.
  CHECK(served.listener().stats().connections_refused == 1);
  CHECK(first->get("a")->value == "1");
}

}  // namespace
}  // namespace cairn::server
