// A client that goes away: sends requests over a raw socket and closes it before reading any reply,
// so the peer writes its reply to a socket whose reader is gone (EPIPE, and SIGPIPE unless the writing
// thread is protected). Tests of "a client that goes away never kills a peer" use it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/protocol/protocol.h"

namespace cairn::test {

// Connects to 127.0.0.1:`port`, writes an auth request with `token` and then `op`, and closes the
// socket at once (a FIN: the peer still reads both requests and answers into the closed socket).
inline void request_and_hang_up(std::uint16_t port, const std::string& token, protocol::Op op) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  std::string bytes = protocol::encode_request_frame(protocol::Request{1, protocol::Auth{token}}) +
                      protocol::encode_request_frame(protocol::Request{2, std::move(op)});
  std::string_view unsent = bytes;
  while (connected && !unsent.empty()) {
    const ssize_t sent = ::send(fd, unsent.data(), unsent.size(), MSG_NOSIGNAL);
    if (sent <= 0) break;
    unsent.remove_prefix(static_cast<std::size_t>(sent));
  }
  ::close(fd);
  REQUIRE(connected);
  REQUIRE(unsent.empty());
}

}  // namespace cairn::test
