// The client library against peers that misbehave: silent, closing, speaking another version. A plain
// loopback socket plays the peer.
#include "cairn/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "src/server/protocol.h"

namespace cairn {
namespace {

// A listening socket on 127.0.0.1, an ephemeral port.
class FakePeer {
 public:
  FakePeer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~FakePeer() { ::close(fd_); }

  ClientOptions options(std::uint32_t timeout_ms = 300) const { return ClientOptions{"127.0.0.1", port_, timeout_ms, ""}; }

  // Accepts one connection, reads one request's worth of bytes, sends `reply` (if any), then closes.
  std::thread serve_once(std::string reply) {
    return std::thread([this, reply = std::move(reply)] {
      const int connection = ::accept(fd_, nullptr, nullptr);
      if (connection < 0) return;
      char buffer[4096];
      (void)::recv(connection, buffer, sizeof buffer, 0);
      if (!reply.empty()) (void)::send(connection, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(connection);
    });
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

TEST_CASE("client: a peer that never answers times out, and the client stays closed") {
  FakePeer peer;  // Never accepts: the kernel completes the handshake, nobody reads.
  auto client = Client::connect(peer.options());
  REQUIRE(client.has_value());
  auto put = (*client)->put("k", "v");
  REQUIRE_FALSE(put.has_value());
  CHECK(put.error().code() == ErrorCode::kUnavailable);
  CHECK(put.error().message().find("timed out") != std::string::npos);
  CHECK((*client)->get("k").error().code() == ErrorCode::kUnavailable);
}

TEST_CASE("client: a peer that closes the connection is reported as unavailable") {
  FakePeer peer;
  std::thread serving = peer.serve_once("");
  auto client = Client::connect(peer.options(5000));
  REQUIRE(client.has_value());
  auto got = (*client)->get("k");
  serving.join();
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code() == ErrorCode::kUnavailable);
}

TEST_CASE("client: a reply of another protocol version is unsupported") {
  FakePeer peer;
  std::string reply = protocol::encode_response_frame(protocol::Response{1, false, protocol::Done{}});
  reply[4] = 2;  // The version byte.
  std::thread serving = peer.serve_once(reply);
  auto client = Client::connect(peer.options(5000));
  REQUIRE(client.has_value());
  auto put = (*client)->put("k", "v");
  serving.join();
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
