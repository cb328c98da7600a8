// The sans-I/O HTTP request reader (src/http/request_reader.h): bytes in, requests or a refusal out.
#include "src/http/request_reader.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace cairn::http {
namespace {

struct Outcome {
  std::vector<HttpRequest> requests;
  int error_status = 0;  // 0: no failure.
};

// Feeds `bytes` to `reader` the way the listener does: up to each request's end, taking it, then on.
void read_into(RequestReader& reader, std::string_view bytes, Outcome& outcome) {
  for (;;) {
    bytes.remove_prefix(reader.feed(bytes));
    if (auto request = reader.take_request()) {
      outcome.requests.push_back(std::move(*request));
      continue;
    }
    if (reader.failed()) {
      outcome.error_status = reader.error_status();
      return;
    }
    if (bytes.empty()) return;
  }
}

Outcome read_all(std::string_view bytes, RequestLimits limits = {}) {
  RequestReader reader(limits);
  Outcome outcome;
  read_into(reader, bytes, outcome);
  return outcome;
}

// What a test compares: everything a request carries.
std::string describe(const HttpRequest& request) {
  std::string text = request.method + " " + request.path + " ?" + request.query + " " +
                     std::to_string(request.http_major) + "." + std::to_string(request.http_minor) +
                     (request.keep_alive ? " keep-alive" : " close");
  for (const auto& [name, value] : request.headers) text += " [" + name + ": " + value + "]";
  return text;
}

std::vector<std::string> describe(const Outcome& outcome) {
  std::vector<std::string> lines;
  for (const HttpRequest& request : outcome.requests) lines.push_back(describe(request));
  lines.push_back("error " + std::to_string(outcome.error_status));
  return lines;
}

constexpr std::string_view kPipelined =
    "GET /metrics HTTP/1.1\r\nHost: localhost:7402\r\nAccept: text/plain\r\n\r\n"
    "HEAD /health?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
    "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";

}  // namespace

TEST_CASE("a simple GET is read with its path, query and headers") {
  const Outcome outcome =
      read_all("GET /metrics?name=x&y HTTP/1.1\r\nHost: Example\r\nX-Spaced:   padded value  \r\n\r\n");
  REQUIRE(outcome.error_status == 0);
  REQUIRE(outcome.requests.size() == 1);
  const HttpRequest& request = outcome.requests[0];
  CHECK(request.method == "GET");
  CHECK(request.path == "/metrics");
  CHECK(request.query == "name=x&y");
  CHECK(request.http_major == 1);
  CHECK(request.http_minor == 1);
  CHECK(request.keep_alive);
  CHECK(request.header("host") == std::optional<std::string_view>("Example"));
  CHECK(request.header("x-spaced") == std::optional<std::string_view>("padded value"));
  CHECK_FALSE(request.header("accept").has_value());
}

TEST_CASE("keep-alive follows the HTTP version and the Connection header") {
  CHECK(read_all("GET / HTTP/1.1\r\n\r\n").requests.at(0).keep_alive);
  CHECK_FALSE(read_all("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").requests.at(0).keep_alive);
  CHECK_FALSE(read_all("GET / HTTP/1.0\r\n\r\n").requests.at(0).keep_alive);
  CHECK(read_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").requests.at(0).keep_alive);
  // An upgrade hands the connection to another protocol: the request is the connection's last.
  CHECK_FALSE(read_all("GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
                  .requests.at(0)
                  .keep_alive);
}

TEST_CASE("an absolute-form target gives its path, and a bare authority gives /") {
  CHECK(read_all("GET http://host:7402/metrics?x HTTP/1.1\r\n\r\n").requests.at(0).path == "/metrics");
  CHECK(read_all("GET http://host:7402 HTTP/1.1\r\n\r\n").requests.at(0).path == "/");
}

TEST_CASE("pipelined requests come out one at a time, in order, a small body discarded") {
  RequestReader reader;
  std::string_view bytes = kPipelined;
  const std::size_t first = reader.feed(bytes);
  CHECK(first == kPipelined.find("HEAD"));       // Stops at the end of the first request.
  CHECK(reader.feed(bytes.substr(first)) == 0);  // Nothing more until the request is taken.
  REQUIRE(reader.take_request().has_value());
  CHECK_FALSE(reader.take_request().has_value());

  const Outcome outcome = read_all(kPipelined);
  CHECK(outcome.error_status == 0);
  REQUIRE(outcome.requests.size() == 4);
  CHECK(outcome.requests[0].path == "/metrics");
  CHECK(outcome.requests[1].method == "HEAD");
  CHECK(outcome.requests[1].query == "verbose=1");
  CHECK(outcome.requests[2].method == "POST");
  CHECK(outcome.requests[3].path == "/");
  CHECK_FALSE(outcome.requests[3].keep_alive);
}

TEST_CASE("splitting the bytes anywhere changes nothing") {
  const std::vector<std::string> whole = describe(read_all(kPipelined));
  for (std::size_t split = 0; split <= kPipelined.size(); ++split) {
    RequestReader reader;
    Outcome outcome;
    read_into(reader, kPipelined.substr(0, split), outcome);
    read_into(reader, kPipelined.substr(split), outcome);
    INFO("split at " << split);
    REQUIRE(describe(outcome) == whole);
  }
  RequestReader reader;
  Outcome outcome;
  for (const char byte : kPipelined) read_into(reader, std::string_view(&byte, 1), outcome);
  CHECK(describe(outcome) == whole);
}

TEST_CASE("blank lines before a request are skipped") {
  const Outcome outcome = read_all("\r\n\r\nGET /health HTTP/1.1\r\n\r\n");
  CHECK(outcome.error_status == 0);
  REQUIRE(outcome.requests.size() == 1);
  CHECK(outcome.requests[0].path == "/health");
}

TEST_CASE("garbage is refused with 400 and the reader stays failed") {
  for (const std::string_view garbage :
       {std::string_view("\x01\x02\x03 nonsense\r\n\r\n"),
        std::string_view("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string_view("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        std::string_view("GET /\x7f HTTP/1.1\r\n\r\n"), std::string_view("FLY / HTTP/1.1\r\n\r\n")}) {
    INFO(garbage);
    RequestReader reader;
    Outcome outcome;
    read_into(reader, garbage, outcome);
    CHECK(outcome.requests.empty());
    CHECK(outcome.error_status == 400);
    CHECK(reader.failed());
    CHECK_FALSE(reader.error().empty());
    CHECK(reader.feed("GET / HTTP/1.1\r\n\r\n") == 0);
    CHECK_FALSE(reader.take_request().has_value());
  }
}

TEST_CASE("a request before garbage is still served") {
  const Outcome outcome = read_all("GET /health HTTP/1.1\r\n\r\nthis is not http\r\n\r\n");
  CHECK(outcome.requests.size() == 1);
  CHECK(outcome.error_status == 400);
}

TEST_CASE("headers over the limits are refused with 431") {
  RequestLimits limits;
  limits.max_header_bytes = 256;
  limits.max_header_count = 4;
  CHECK(read_all("GET /" + std::string(300, 'a') + " HTTP/1.1\r\n\r\n", limits).error_status == 431);
  CHECK(read_all("GET / HTTP/1.1\r\nX: " + std::string(300, 'v') + "\r\n\r\n", limits).error_status == 431);
  CHECK(read_all("GET / HTTP/1.1\r\n" + std::string(300, 'n') + ": v\r\n\r\n", limits).error_status == 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 5; ++i) many += "H" + std::to_string(i) + ": v\r\n";
  CHECK(read_all(many + "\r\n", limits).error_status == 431);
  // Just within: four headers.
  std::string four = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 4; ++i) four += "H" + std::to_string(i) + ": v\r\n";
  CHECK(read_all(four + "\r\n", limits).requests.size() == 1);
  // The default limit, fed in small pieces so that no single piece is over it.
  RequestReader reader;
  Outcome outcome;
  read_into(reader, "GET / HTTP/1.1\r\nX: ", outcome);
  for (std::size_t sent = 0; sent <= kMaxHeaderBytes && !reader.failed(); sent += 100) {
    read_into(reader, std::string(100, 'v'), outcome);
  }
  CHECK(outcome.error_status == 431);
}

TEST_CASE("a body over the cap is refused with 413, before it arrives or as it is counted") {
  RequestLimits limits;
  limits.max_body_bytes = 16;
  CHECK(read_all("POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n", limits).error_status == 413);
  CHECK(read_all("POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", limits).error_status == 413);
  const Outcome within = read_all("POST / HTTP/1.1\r\nContent-Length: 16\r\n\r\n0123456789abcdef", limits);
  CHECK(within.error_status == 0);
  CHECK(within.requests.size() == 1);
  const std::string chunk = "10\r\n0123456789abcdef\r\n";
  const Outcome chunked_ok =
      read_all("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + "0\r\n\r\n", limits);
  CHECK(chunked_ok.requests.size() == 1);
  CHECK(read_all("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk, limits)
            .error_status == 413);
}

TEST_CASE("HTTP versions other than 1.x are refused with 505") {
  CHECK(read_all("GET / HTTP/2.0\r\n\r\n").error_status == 505);
}

TEST_CASE("in_request tells a request cut short from a clean boundary") {
  RequestReader reader;
  CHECK_FALSE(reader.in_request());
  CHECK(reader.feed("GET / HT") == 8);
  CHECK(reader.in_request());
  reader.feed("TP/1.1\r\n\r\n");
  CHECK_FALSE(reader.in_request());
  CHECK(reader.take_request().has_value());
}

}  // namespace cairn::http
