// The client library against peers that misbehave: silent, closing, slow, speaking another version. A
// plain loopback socket plays the peer (tests/client/fake_peer.h). A request the peer may have received
// and run without answering is kOutcomeUnknown; one that was never sent is kUnavailable.
#include "cairn/client.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "src/protocol/protocol.h"
#include "tests/client/fake_peer.h"

namespace cairn {
namespace {

using test::FakePeer;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("client: a put sent to a peer that never answers is outcome unknown, and later calls are not sent") {
  FakePeer peer;  // Never accepts: the kernel completes the handshake and takes the request, nobody answers.
  auto client = Client::connect(peer.options());
  REQUIRE(client.has_value());
  auto put = (*client)->put("k", "v");
  REQUIRE_FALSE(put.has_value());
  INFO(put.error().to_string());
  CHECK(put.error().code() == ErrorCode::kOutcomeUnknown);
  CHECK(contains(put.error().message(), "put was sent but no reply came (timed out after 300 ms"));
  CHECK(contains(put.error().message(), "may or may not have taken effect"));
  auto get = (*client)->get("k");
  REQUIRE_FALSE(get.has_value());
  CHECK(get.error().code() == ErrorCode::kUnavailable);
  CHECK(contains(get.error().message(), "not sent"));
}

TEST_CASE("client: a peer that closes the connection after reading a request leaves its outcome unknown") {
  FakePeer peer;
  peer.serve([](int connection) { (void)FakePeer::read_request(connection); });
  auto client = Client::connect(peer.options(5000));
  REQUIRE(client.has_value());
  auto got = (*client)->get("k");
  peer.join();
  REQUIRE_FALSE(got.has_value());
  INFO(got.error().to_string());
  CHECK(got.error().code() == ErrorCode::kOutcomeUnknown);
  CHECK(contains(got.error().message(), "a read changes nothing: retry it"));
}

TEST_CASE("client: a peer that is not listening is unavailable: nothing was sent") {
  std::uint16_t port = 0;
  { port = FakePeer().port(); }  // Bound, then closed: nothing listens there now.
  auto client = Client::connect(ClientOptions{"127.0.0.1", port, 1000, ""});
  REQUIRE_FALSE(client.has_value());
  CHECK(client.error().code() == ErrorCode::kUnavailable);
  CHECK(contains(client.error().message(), "cannot connect to 127.0.0.1:"));
}

TEST_CASE("client: a peer that never answers the token cannot be connected to, which is unavailable, not unknown") {
  FakePeer peer;  // Takes the auth request and never answers it: the caller's request was never sent.
  auto client = Client::connect(peer.options(300, "a-token"));
  REQUIRE_FALSE(client.has_value());
  INFO(client.error().to_string());
  CHECK(client.error().code() == ErrorCode::kUnavailable);
}

TEST_CASE("client: a reply that keeps arriving is waited for past the timeout as a whole") {
  FakePeer peer;
  peer.serve([](int connection) {
    const auto request = FakePeer::read_request(connection);
    if (!request) return;
    const std::string frame = protocol::encode_response_frame(
        protocol::Response{request->id, false, RegisterValue{std::string(200, 'v'), {}}});
    // Five pieces 200 ms apart: 800 ms in all, more than the 500 ms timeout, never 500 ms without a byte.
    const std::size_t piece = frame.size() / 5 + 1;
    for (std::size_t at = 0; at < frame.size(); at += piece) {
      if (at > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      FakePeer::send_all(connection, frame.substr(at, piece));
    }
  });
  auto client = Client::connect(peer.options(500));
  REQUIRE(client.has_value());
  auto got = (*client)->get("k");
  peer.join();
  INFO((got ? std::string("ok") : got.error().to_string()));
  REQUIRE(got.has_value());
  CHECK(got->value == std::string(200, 'v'));
}

TEST_CASE("client: the wait for a large write's reply grows with its size") {
  FakePeer peer;
  peer.serve([](int connection) {
    const auto request = FakePeer::read_request(connection);
    if (!request) return;
    // Longer than the 300 ms timeout, well inside the 300 ms + 1 ms per KiB a 2 MiB put gets.
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    FakePeer::reply(connection, *request, protocol::Done{});
  });
  auto client = Client::connect(peer.options(300));
  REQUIRE(client.has_value());
  auto put = (*client)->put("k", std::string(2u << 20, 'x'));
  peer.join();
  INFO((put ? std::string("ok") : put.error().to_string()));
  CHECK(put.has_value());
}

TEST_CASE("client: a reply of another protocol version is unsupported") {
  FakePeer peer;
  peer.serve([](int connection) {
    const auto request = FakePeer::read_request(connection);
    if (!request) return;
    std::string reply = protocol::encode_response_frame(protocol::Response{request->id, false, protocol::Done{}});
    reply[4] = 2;  // The version byte.
    FakePeer::send_all(connection, reply);
  });
  auto client = Client::connect(peer.options(5000));
  REQUIRE(client.has_value());
  auto put = (*client)->put("k", "v");
  peer.join();
  REQUIRE_FALSE(put.has_value());
  CHECK(put.error().code() == ErrorCode::kUnsupported);
}

TEST_CASE("client: a host that is not an IP literal is refused without a lookup") {
  auto client = Client::connect(ClientOptions{"example.invalid", 7401, 100, ""});
  REQUIRE_FALSE(client.has_value());
  CHECK(client.error().code() == ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn
