// A plain loopback socket playing a cairn peer for client tests: it listens on 127.0.0.1 (an ephemeral
// port) and, when told, accepts one connection and runs a script on it (read request frames, answer,
// stall, close). Without a script it never accepts: the kernel completes the handshake and buffers
// what the client sends, and nobody ever answers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "cairn/client.h"
#include "src/codec/frame.h"
#include "src/protocol/protocol.h"

namespace cairn::test {

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
  ~FakePeer() {
    if (script_.joinable()) script_.join();
    ::close(fd_);
  }
  FakePeer(const FakePeer&) = delete;
  FakePeer& operator=(const FakePeer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  ClientOptions options(std::uint32_t timeout_ms = 300, std::string token = "") const {
    return ClientOptions{"127.0.0.1", port_, timeout_ms, std::move(token)};
  }

  // Accepts one connection (waiting up to 10 s) on a thread and runs `script` with its socket, which
  // is closed afterwards. The destructor waits for the script.
  void serve(std::function<void(int connection)> script) {
    script_ = std::thread([this, script = std::move(script)] {
      pollfd listening{fd_, POLLIN, 0};
      if (::poll(&listening, 1, 10'000) != 1) return;
      const int connection = ::accept(fd_, nullptr, nullptr);
      if (connection < 0) return;
      script(connection);
      ::close(connection);
    });
  }

  // Waits for the script to finish.
  void join() {
    if (script_.joinable()) script_.join();
  }

  // Reads one whole request frame from `connection` and decodes it; nothing when the connection ends
  // first or the frame is not a request.
  static std::optional<protocol::Request> read_request(int connection) {
    std::string header(codec::kFrameHeaderBytes, '\0');
    if (!read_exactly(connection, header)) return std::nullopt;
    const auto parsed = codec::parse_frame_header(header);
    if (!parsed.ok) return std::nullopt;
    std::string payload(parsed.header.payload_length, '\0');
    if (!read_exactly(connection, payload)) return std::nullopt;
    auto request = protocol::decode_request(payload);
    if (!request) return std::nullopt;
    return std::move(*request);
  }

  static void send_all(int connection, const std::string& bytes) {
    for (std::size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(connection, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  // Answers `request` with `body` in one frame.
  static void reply(int connection, const protocol::Request& request, protocol::Body body) {
    send_all(connection, protocol::encode_response_frame(protocol::Response{request.id, false, std::move(body)}));
  }

 private:
  static bool read_exactly(int connection, std::string& buffer) {
    for (std::size_t got = 0; got < buffer.size();) {
      const ssize_t n = ::recv(connection, buffer.data() + got, buffer.size() - got, 0);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    return true;
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread script_;
};

}  // namespace cairn::test
