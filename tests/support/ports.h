// Loopback ports for tests: hold one (so that whatever binds it next finds it taken), or ask whether
// one is free.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>

namespace cairn::test {

// A socket bound to 127.0.0.1 on an ephemeral port (TCP listening, or UDP), holding it until destroyed.
class PortHolder {
 public:
  explicit PortHolder(int type) : fd_(::socket(AF_INET, type, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    if (type == SOCK_STREAM) REQUIRE(::listen(fd_, 4) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~PortHolder() { ::close(fd_); }
  PortHolder(const PortHolder&) = delete;
  PortHolder& operator=(const PortHolder&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

// True when 127.0.0.1:`port` can be bound with `type` (SOCK_STREAM or SOCK_DGRAM) now.
inline bool port_is_free(std::uint16_t port, int type) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

// A UDP port held, whose TCP side is free now (for "gossip port taken for UDP": TCP must bind first).
// Ephemeral ports are shared by every test running in parallel, so a few candidates may be needed.
inline std::unique_ptr<PortHolder> udp_port_with_free_tcp() {
  auto udp = std::make_unique<PortHolder>(SOCK_DGRAM);
  for (int attempt = 0; attempt < 20 && !port_is_free(udp->port(), SOCK_STREAM); ++attempt) {
    udp = std::make_unique<PortHolder>(SOCK_DGRAM);
  }
  REQUIRE(port_is_free(udp->port(), SOCK_STREAM));
  return udp;
}

}  // namespace cairn::test
