// HttpListener over real sockets on 127.0.0.1, ephemeral ports only (label e2e).
//
// The listener lives on a running EventLoop; the test thread touches it only through EventLoop::post
// (on_loop below) or its thread-safe stats(). Clients are plain blocking POSIX sockets with receive
// timeouts, so a listener that fails to answer fails the test instead of hanging it.
#include "src/http/listener.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "src/metrics/prometheus.h"

namespace cairn::http {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kHealthBody = R"({"status":"ok","replica":"00000000000000ab"})";

// Runs `fn` on the loop thread and returns its result on this thread.
template <typename Fn>
auto on_loop(net::EventLoop& loop, Fn fn) -> decltype(fn()) {
  std::packaged_task<decltype(fn())()> task(std::move(fn));
  auto result = task.get_future();
  REQUIRE(loop.post([&task] { task(); }));
  return result.get();
}

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// The handler the node will install, in miniature: /health and /metrics.
HttpListener::Handler test_handler(std::atomic<int>& calls) {
  return route({
      {"/health",
       [&calls](const HttpRequest&) {
         ++calls;
         HttpResponse response;
         response.content_type = "application/json";
         response.body = kHealthBody;
         return response;
       }},
      {"/metrics",
       [&calls](const HttpRequest&) {
         ++calls;
         HttpResponse response;
         response.content_type = metrics::kPrometheusContentType;
         response.body = metrics::render_prometheus({MetricSample{
             "cairn_operations_total", "Operations.", MetricType::kCounter, {{"op", "put"}}, 7}});
         return response;
       }},
      {"/throw", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("handler bug"); }},
  });
}

// A running loop with one listener on 127.0.0.1:0. Stopping the loop closes the listener.
class Harness {
 public:
  explicit Harness(HttpListenerOptions options = {}) {
    auto created = net::EventLoop::create();
    REQUIRE(created);
    loop_ = std::move(*created);
    REQUIRE(loop_->start());
    auto started = on_loop(
        *loop_, [&] { return HttpListener::start(*loop_, "127.0.0.1", 0, test_handler(calls_), options); });
    INFO((started ? std::string() : started.error().to_string()));
    REQUIRE(started);
    listener_ = std::move(*started);
    port_ = on_loop(*loop_, [&] { return listener_->port(); });
    REQUIRE(port_ != 0);
  }
  ~Harness() {
    loop_->stop();
    listener_.reset();
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  net::EventLoop& loop() { return *loop_; }
  std::unique_ptr<HttpListener>& listener() { return listener_; }
  std::uint16_t port() const { return port_; }
  int handler_calls() const { return calls_.load(); }
  HttpListenerStats stats() const { return listener_->stats(); }

 private:
  std::atomic<int> calls_{0};
  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<HttpListener> listener_;
  std::uint16_t port_ = 0;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // Names lower-cased.
  std::string body;
};

// A blocking TCP client with a receive timeout.
class Client {
 public:
  // Connects to 127.0.0.1:`port`, failing the test if it cannot unless `allow_refusal`.
  explicit Client(std::uint16_t port, bool allow_refusal = false) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    const timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    if (!allow_refusal) REQUIRE(connected_);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  // Shuts down the sending side (half-close): the server sees EOF but may still answer.
  void finish_sending() { REQUIRE(::shutdown(fd_, SHUT_WR) == 0); }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      REQUIRE(sent > 0);
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  // Reads one response: the head, then Content-Length bytes of body (none for `head_request`).
  Response read_response(bool head_request = false) {
    std::size_t end = input_.find("\r\n\r\n");
    while (end == std::string::npos) {
      REQUIRE(fill());
      end = input_.find("\r\n\r\n");
    }
    Response response;
    const std::string head = input_.substr(0, end);
    input_.erase(0, end + 4);
    REQUIRE(head.rfind("HTTP/1.1 ", 0) == 0);
    response.status = std::stoi(head.substr(9, 3));
    for (std::size_t line = head.find("\r\n"); line != std::string::npos;) {
      const std::size_t next = head.find("\r\n", line + 2);
      const std::string field =
          head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
      const std::size_t colon = field.find(": ");
      REQUIRE(colon != std::string::npos);
      std::string name = field.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = field.substr(colon + 2);
      line = next;
    }
    REQUIRE(response.headers.count("content-length") == 1);
    const std::size_t length = head_request ? 0 : std::stoul(response.headers["content-length"]);
    while (input_.size() < length) REQUIRE(fill());
    response.body = input_.substr(0, length);
    input_.erase(0, length);
    return response;
  }

  // True when the server closes the connection (EOF or reset) before the receive timeout.
  bool closed_by_server() {
    while (fill()) {
    }
    return errno_ != EAGAIN && errno_ != EWOULDBLOCK;
  }

 private:
  // Reads more input; false on EOF, error or timeout (errno_ tells which: 0 for EOF).
  bool fill() {
    char buffer[4096];
    const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got > 0) {
      input_.append(buffer, static_cast<std::size_t>(got));
      return true;
    }
    errno_ = got == 0 ? 0 : errno;
    return false;
  }

  int fd_;
  bool connected_ = false;
  int errno_ = 0;
  std::string input_;
};

// Sends `request` on a new connection and returns the status of the one answer before the server closes.
int final_status(std::uint16_t port, const std::string& request) {
  Client client(port);
  client.send(request);
  const Response response = client.read_response();
  CHECK(response.headers.at("connection") == "close");
  CHECK(client.closed_by_server());
  return response.status;
}

Response get(std::uint16_t port, const std::string& request) {
  Client client(port);
  client.send(request);
  return client.read_response();
}

}  // namespace

TEST_CASE("GET /health and /metrics are answered over TCP") {
  Harness harness;
  const Response health = get(harness.port(), "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(health.status == 200);
  CHECK(health.headers.at("content-type") == "application/json");
  CHECK(health.headers.at("connection") == "keep-alive");
  CHECK(health.body == kHealthBody);

  const Response metrics = get(harness.port(), "GET /metrics?debug=1 HTTP/1.1\r\n\r\n");
  CHECK(metrics.status == 200);
  CHECK(metrics.headers.at("content-type") == metrics::kPrometheusContentType);
  CHECK(metrics.body ==
        "# HELP cairn_operations_total Operations.\n# TYPE cairn_operations_total counter\n"
        "cairn_operations_total{op=\"put\"} 7\n");
  CHECK(harness.handler_calls() == 2);
}

TEST_CASE("keep-alive: several requests on one connection, one after another and pipelined") {
  Harness harness;
  Client client(harness.port());
  client.send("GET /health HTTP/1.1\r\n\r\n");
  CHECK(client.read_response().body == kHealthBody);
  client.send("GET /metrics HTTP/1.1\r\n\r\n");
  CHECK(client.read_response().status == 200);

  client.send(
      "GET /health HTTP/1.1\r\n\r\nHEAD /metrics HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\nConnection: "
      "close\r\n\r\n");
  CHECK(client.read_response().body == kHealthBody);
  const Response head = client.read_response(/*head_request=*/true);
  CHECK(head.status == 200);
  CHECK(std::stoul(head.headers.at("content-length")) > 0);
  const Response last = client.read_response();
  CHECK(last.status == 404);
  CHECK(last.headers.at("connection") == "close");
  CHECK(client.closed_by_server());

  const HttpListenerStats stats = harness.stats();
  CHECK(stats.connections_accepted == 1);
  CHECK(stats.requests == 5);
  CHECK(stats.bad_requests == 0);
}

TEST_CASE("pipelined requests held back while answers wait are answered once the client reads") {
  HttpListenerOptions options;
  options.max_queued_response_bytes = 1;  // Every answer holds the rest back until the kernel takes it.
  Harness harness(options);
  Client client(harness.port());
  std::string requests;
  for (int i = 0; i < 50; ++i)
    requests += i % 2 == 0 ? "GET /health HTTP/1.1\r\n\r\n" : "GET /metrics HTTP/1.1\r\n\r\n";
  client.send(requests);
  for (int i = 0; i < 50; ++i) {
    const Response response = client.read_response();
    CHECK(response.status == 200);
    if (i % 2 == 0) CHECK(response.body == kHealthBody);
  }
  CHECK(harness.stats().requests == 50);
}

TEST_CASE("a client that half-closes after its requests still gets every answer") {
  Harness harness;
  Client client(harness.port());
  client.send("GET /health HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\nHost: x");
  client.finish_sending();
  CHECK(client.read_response().body == kHealthBody);
  CHECK(client.read_response().status == 200);
  CHECK(client.closed_by_server());  // The request cut short by the EOF is not answered.
  CHECK(eventually([&] { return harness.stats().open_connections == 0; }));
}

TEST_CASE("unknown paths get 404, other methods 405 without reaching the handler") {
  Harness harness;
  CHECK(get(harness.port(), "GET /missing HTTP/1.1\r\n\r\n").status == 404);
  const Response post = get(harness.port(), "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
  CHECK(post.status == 405);
  CHECK(post.headers.at("allow") == "GET, HEAD");
  CHECK(get(harness.port(), "DELETE /health HTTP/1.1\r\n\r\n").status == 405);
  CHECK(harness.handler_calls() == 0);
  CHECK(get(harness.port(), "GET /throw HTTP/1.1\r\n\r\n").status == 500);
  CHECK(harness.stats().handler_failures == 1);
}

TEST_CASE("garbage is answered 400 and closed, and the listener goes on serving") {
  Harness harness;
  CHECK(final_status(harness.port(), "\x16\x03\x01 this is no HTTP at all\r\n\r\nmore bytes after it") ==
        400);
  CHECK(final_status(harness.port(), "POST /metrics HTTP/1.1\r\nContent-Length: 100000\r\n\r\n") == 413);
  CHECK(final_status(harness.port(), "GET /" + std::string(kMaxHeaderBytes, 'a') + " HTTP/1.1\r\n\r\n") ==
        431);
  CHECK(get(harness.port(), "GET /health HTTP/1.1\r\n\r\n").status == 200);
  CHECK(harness.stats().bad_requests == 3);
}

TEST_CASE("connections beyond max_connections are closed at once") {
  HttpListenerOptions options;
  options.max_connections = 1;
  Harness harness(options);
  Client first(harness.port());
  first.send("GET /health HTTP/1.1\r\n\r\n");
  CHECK(first.read_response().status == 200);  // Accepted and counted.

  Client second(harness.port());  // The kernel accepts it; the listener closes it.
  CHECK(second.closed_by_server());
  CHECK(harness.stats().connections_refused == 1);

  first.send("GET /health HTTP/1.1\r\n\r\n");
  CHECK(first.read_response().status == 200);
}

TEST_CASE("idle connections are closed after idle_timeout_ms") {
  HttpListenerOptions options;
  options.idle_timeout_ms = 100;
  Harness harness(options);
  Client silent(harness.port());
  Client slow(harness.port());
  slow.send("GET /health HTTP/1.1\r\nHost:");  // A request begun and never finished.
  CHECK(silent.closed_by_server());
  CHECK(slow.closed_by_server());
  CHECK(eventually([&] { return harness.stats().connections_timed_out == 2; }));
  CHECK(eventually([&] { return harness.stats().open_connections == 0; }));
}

TEST_CASE("close() stops listening and ends every connection") {
  Harness harness;
  Client open(harness.port());
  open.send("GET /health HTTP/1.1\r\n\r\n");
  CHECK(open.read_response().status == 200);
  std::promise<void> closed;
  on_loop(harness.loop(), [&] { harness.listener()->close([&closed] { closed.set_value(); }); });
  REQUIRE(closed.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(open.closed_by_server());
  CHECK_FALSE(Client(harness.port(), /*allow_refusal=*/true).connected());
  CHECK(on_loop(harness.loop(), [&] { return harness.listener()->closed(); }));
}

TEST_CASE("destroying a listener with open connections, or stopping its loop, closes them") {
  Harness harness;
  Client client(harness.port());
  client.send("GET /health HTTP/1.1\r\n\r\n");
  CHECK(client.read_response().status == 200);
  on_loop(harness.loop(), [&] { harness.listener().reset(); });
  CHECK(client.closed_by_server());

  // A second listener, left open for the loop's shutdown (the Harness destructor) to close.
  std::atomic<int> calls{0};
  auto second = on_loop(harness.loop(), [&] {
    return HttpListener::start(harness.loop(), "127.0.0.1", 0, test_handler(calls));
  });
  REQUIRE(second);
  const std::uint16_t port = on_loop(harness.loop(), [&] { return (*second)->port(); });
  Client lingering(port);
  harness.loop().stop();
  CHECK(lingering.closed_by_server());
  second->reset();
}

TEST_CASE("start refuses a bad host, an empty handler and a port in use") {
  Harness harness;
  auto& loop = harness.loop();
  std::atomic<int> calls{0};
  auto bad_host =
      on_loop(loop, [&] { return HttpListener::start(loop, "example.com", 0, test_handler(calls)); });
  REQUIRE_FALSE(bad_host);
  CHECK(bad_host.error().code() == ErrorCode::kInvalidArgument);
  auto no_handler = on_loop(loop, [&] { return HttpListener::start(loop, "127.0.0.1", 0, nullptr); });
  REQUIRE_FALSE(no_handler);
  CHECK(no_handler.error().code() == ErrorCode::kInvalidArgument);
  auto in_use = on_loop(
      loop, [&] { return HttpListener::start(loop, "127.0.0.1", harness.port(), test_handler(calls)); });
  REQUIRE_FALSE(in_use);
  CHECK(in_use.error().code() == ErrorCode::kUnavailable);
  auto v6 = on_loop(loop, [&] { return HttpListener::start(loop, "::1", 0, test_handler(calls)); });
  if (v6) on_loop(loop, [&] { v6->reset(); });  // IPv6 loopback may be missing in a container.
  CHECK(get(harness.port(), "GET /health HTTP/1.1\r\n\r\n").status == 200);
}

}  // namespace cairn::http
