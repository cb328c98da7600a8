// The client library writes on the application's thread: a peer that closed the connection must not
// end the application with SIGPIPE, and the client must leave the application's SIGPIPE disposition,
// its thread's signal mask, and its pending signals as they were.
#include "cairn/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

namespace {

// A listening socket on 127.0.0.1 that accepts one connection and closes it at once.
class ClosingPeer {
 public:
  ClosingPeer() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
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
  ~ClosingPeer() { ::close(fd_); }

  std::uint16_t port() const { return port_; }
  // Accepts the connection the client made and closes it (a FIN; nothing the client sends is read).
  void accept_and_close() const {
    const int connection = ::accept(fd_, nullptr, nullptr);
    REQUIRE(connection >= 0);
    ::close(connection);
  }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

bool sigpipe_in(const sigset_t& set) { return sigismember(&set, SIGPIPE) == 1; }

}  // namespace

TEST_CASE("client: writing to a peer that closed fails without a SIGPIPE, signals left as they were", "[sigpipe]") {
  struct sigaction disposition {};
  REQUIRE(sigaction(SIGPIPE, nullptr, &disposition) == 0);
  REQUIRE(disposition.sa_handler == SIG_DFL);  // A SIGPIPE would end this process.
  sigset_t mask_before;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask_before);
  REQUIRE_FALSE(sigpipe_in(mask_before));

  ClosingPeer peer;
  // A 16 MiB request is many writes: the peer's reset arrives while the client is still writing.
  const std::string big_value(std::size_t{16} << 20, 'v');
  for (int round = 0; round < 5; ++round) {
    auto client = cairn::Client::connect(cairn::ClientOptions{"127.0.0.1", peer.port(), 5000, ""});
    REQUIRE(client);
    peer.accept_and_close();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Let the peer's FIN arrive.
    auto put = (*client)->put("k", big_value);
    REQUIRE_FALSE(put);
    CHECK(put.error().code() == cairn::ErrorCode::kUnavailable);
  }

  REQUIRE(sigaction(SIGPIPE, nullptr, &disposition) == 0);
  CHECK(disposition.sa_handler == SIG_DFL);
  sigset_t mask_after;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask_after);
  CHECK_FALSE(sigpipe_in(mask_after));
  sigset_t pending;
  sigpending(&pending);
  CHECK_FALSE(sigpipe_in(pending));
}
