// client_load: a load generator for a peer's client protocol, in the manner of redis-benchmark.
//
//   client_load [--connect 127.0.0.1:7401] [--token T | --token-file F] [-c 50] [-P 1] [-n 100000]
//               [-r 200000] [-d 100] [-t set,get,sadd,incr] [--csv]
//
// N connections (-c) on one libuv loop, each keeping up to P requests in flight (-P, the pipeline depth),
// until -n requests of a test have been answered. The keys, members and counters are those
// redis-benchmark uses with -r, so the two drive the same work: SET/GET `key:<12 digits>` with a -d byte
// value, SADD `myset element:<12 digits>`, INCR `counter:<12 digits>`. Per test it prints requests per
// second and the latency of each request from the moment its frame was queued to the socket to its reply
// (min, p50, p99, p99.9, max). Replies are checked: a reply other than the one the request expects (a
// GET of a key never set answers not_found, which counts as an answer, as Redis's nil does) is an error,
// and any error ends the run with exit 1, so a figure never hides failed requests.
//
// Run by hand (never as a test); bench/redis_compare.sh runs it beside redis-benchmark in one run and
// docs/BENCHMARKS.md records the figures.
#include <uv.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/client.h"
#include "cairn/metrics.h"
#include "src/codec/frame.h"
#include "src/protocol/protocol.h"
#include "src/util/secret_file.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "client_load: %s\n", message.c_str());
  std::exit(1);
}

struct LoadOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7401;
  std::string token;
  int clients = 50;
  int pipeline = 1;
  std::uint64_t requests = 100'000;
  std::uint64_t keyspace = 200'000;
  std::size_t value_bytes = 100;
};

// redis-benchmark's __rand_int__: a 12-digit, zero-padded number below the key space.
std::string random_suffix(std::uint64_t& state, std::uint64_t keyspace) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  char digits[24];  // 12 digits while the key space stays below 10^12 (checked in main), up to 20 otherwise.
  std::snprintf(digits, sizeof digits, "%012llu", static_cast<unsigned long long>(state % keyspace));
  return digits;
}

// The request a test sends, and whether a reply answers it.
struct Test {
  std::string name;
  cairn::protocol::Op (*make)(std::uint64_t& random, const LoadOptions& options, const std::string& value);
  bool (*accepts)(const cairn::protocol::Body& body);
};

bool is_done(const cairn::protocol::Body& body) { return std::holds_alternative<cairn::protocol::Done>(body); }

const std::vector<Test>& all_tests() {
  using namespace cairn::protocol;
  static const std::vector<Test> tests = {
      {"set",
       [](std::uint64_t& random, const LoadOptions& options, const std::string& value) -> Op {
         return Put{"key:" + random_suffix(random, options.keyspace), value};
       },
       is_done},
      {"get",
       [](std::uint64_t& random, const LoadOptions& options, const std::string&) -> Op {
         return Get{"key:" + random_suffix(random, options.keyspace)};
       },
       [](const Body& body) {
         const auto* error = std::get_if<cairn::Error>(&body);
         return std::holds_alternative<cairn::RegisterValue>(body) ||
                (error != nullptr && error->code() == cairn::ErrorCode::kNotFound);
       }},
      {"sadd",
       [](std::uint64_t& random, const LoadOptions& options, const std::string&) -> Op {
         return Sadd{"myset", {"element:" + random_suffix(random, options.keyspace)}};
       },
       is_done},
      {"incr",
       [](std::uint64_t& random, const LoadOptions& options, const std::string&) -> Op {
         return Incr{"counter:" + random_suffix(random, options.keyspace), 1};
       },
       is_done},
  };
  return tests;
}

class Run;

// One client connection: authenticates, then keeps up to `pipeline` requests in flight. Replies come in
// request order, so the send times of the requests in flight are a queue.
class Connection {
 public:
  Connection(Run& run, std::uint64_t seed) : run_(run), random_(seed | 1) {}

  void connect(uv_loop_t* loop, const sockaddr_in& address);
  bool authenticated() const { return authenticated_; }
  // Sends what the pipeline has room for, as one write.
  void fill();

 private:
  static void on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buffer);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer);
  void consume(const char* data, std::size_t size);
  void on_response(const cairn::protocol::Response& response);
  void write(std::vector<std::string> frames);

  Run& run_;
  std::uint64_t random_;
  uv_tcp_t tcp_{};
  uv_connect_t connect_request_{};
  bool authenticated_ = false;
  std::uint64_t next_id_ = 0;
  std::deque<Clock::time_point> in_flight_;
  std::string input_;
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
};

// One test over every connection.
class Run {
 public:
  Run(const LoadOptions& options, const Test& test) : options_(options), test_(test), value_(options.value_bytes, 'x') {
    latencies_us_.reserve(options.requests);
  }

  void execute() {
    uv_loop_init(&loop_);
    sockaddr_in address{};
    if (int rc = uv_ip4_addr(options_.host.c_str(), options_.port, &address); rc < 0) {
      die("'" + options_.host + "' is not an IPv4 address");
    }
    for (int i = 0; i < options_.clients; ++i) {
      connections_.push_back(std::make_unique<Connection>(*this, 0x9e3779b97f4a7c15ull * (i + 1)));
      connections_.back()->connect(&loop_, address);
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  // Called by each connection once its auth was accepted; the clock starts when all are ready.
  void on_authenticated() {
    if (++authenticated_ < options_.clients) return;
    start_ = Clock::now();
    for (auto& connection : connections_) connection->fill();
  }

  // The next request to send, or nothing once every request of the test has been issued.
  std::optional<cairn::protocol::Op> next_op(std::uint64_t& random) {
    if (issued_ == options_.requests) return std::nullopt;
    ++issued_;
    return test_.make(random, options_, value_);
  }

  void on_answered(Clock::time_point sent, const cairn::protocol::Body& body) {
    if (!test_.accepts(body)) {
      const auto* error = std::get_if<cairn::Error>(&body);
      die(test_.name + ": unexpected reply" + (error ? ": " + error->to_string() : std::string()));
    }
    latencies_us_.push_back(
        static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count()));
    if (latencies_us_.size() == options_.requests) {
      elapsed_s_ = std::chrono::duration<double>(Clock::now() - start_).count();
      // Closing every handle (which cancels writes still queued) lets uv_run return.
      uv_walk(&loop_, [](uv_handle_t* handle, void*) { if (!uv_is_closing(handle)) uv_close(handle, nullptr); }, nullptr);
    }
  }

  const LoadOptions& options() const { return options_; }
  const std::vector<std::uint32_t>& latencies_us() const { return latencies_us_; }
  double elapsed_s() const { return elapsed_s_; }

 private:
  const LoadOptions& options_;
  const Test& test_;
  std::string value_;
  uv_loop_t loop_{};
  std::vector<std::unique_ptr<Connection>> connections_;
  int authenticated_ = 0;
  std::uint64_t issued_ = 0;
  Clock::time_point start_;
  double elapsed_s_ = 0;
  std::vector<std::uint32_t> latencies_us_;
};

void Connection::connect(uv_loop_t* loop, const sockaddr_in& address) {
  uv_tcp_init(loop, &tcp_);
  uv_tcp_nodelay(&tcp_, 1);
  tcp_.data = this;
  connect_request_.data = this;
  const int rc = uv_tcp_connect(&connect_request_, &tcp_, reinterpret_cast<const sockaddr*>(&address),
                                [](uv_connect_t* request, int status) {
                                  auto& self = *static_cast<Connection*>(request->data);
                                  if (status < 0) die(std::string("cannot connect: ") + uv_strerror(status));
                                  uv_read_start(reinterpret_cast<uv_stream_t*>(&self.tcp_), on_alloc, on_read);
                                  self.write({cairn::protocol::encode_request_frame(
                                      {++self.next_id_, cairn::protocol::Auth{self.run_.options().token}})});
                                });
  if (rc < 0) die(std::string("cannot connect: ") + uv_strerror(rc));
}

void Connection::fill() {
  std::vector<std::string> frames;
  while (in_flight_.size() < static_cast<std::size_t>(run_.options().pipeline)) {
    auto op = run_.next_op(random_);
    if (!op) break;
    frames.push_back(cairn::protocol::encode_request_frame({++next_id_, std::move(*op)}));
    in_flight_.push_back(Clock::now());
  }
  if (!frames.empty()) write(std::move(frames));
}

void Connection::write(std::vector<std::string> frames) {
  struct Write {
    uv_write_t request{};
    std::vector<std::string> frames;
    std::vector<uv_buf_t> buffers;
  };
  auto* pending = new Write{};
  pending->frames = std::move(frames);
  for (std::string& frame : pending->frames) {
    pending->buffers.push_back(uv_buf_init(frame.data(), static_cast<unsigned>(frame.size())));
  }
  pending->request.data = pending;
  const int rc = uv_write(&pending->request, reinterpret_cast<uv_stream_t*>(&tcp_), pending->buffers.data(),
                          static_cast<unsigned>(pending->buffers.size()), [](uv_write_t* request, int status) {
                            delete static_cast<Write*>(request->data);
                            if (status < 0 && status != UV_ECANCELED) die(std::string("write: ") + uv_strerror(status));
                          });
  if (rc < 0) die(std::string("write: ") + uv_strerror(rc));
}

void Connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto& self = *static_cast<Connection*>(handle->data);
  *buffer = uv_buf_init(self.read_buffer_.data(), static_cast<unsigned>(self.read_buffer_.size()));
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
  if (nread < 0) die(std::string("connection lost: ") + uv_strerror(static_cast<int>(nread)));
  static_cast<Connection*>(stream->data)->consume(buffer->base, static_cast<std::size_t>(nread));
}

void Connection::consume(const char* data, std::size_t size) {
  namespace codec = cairn::codec;
  input_.append(data, size);
  std::size_t start = 0;
  while (input_.size() - start >= codec::kFrameHeaderBytes) {
    const std::string_view available = std::string_view(input_).substr(start);
    const auto parsed = codec::parse_frame_header(available, cairn::protocol::kDefaultMaxFramePayloadBytes);
    if (!parsed.ok || parsed.header.type != codec::FrameType::kClientResponse) die("the peer sent a bad frame");
    const std::size_t frame_bytes = codec::kFrameHeaderBytes + parsed.header.payload_length;
    if (available.size() < frame_bytes) break;
    auto response = cairn::protocol::decode_response(available.substr(codec::kFrameHeaderBytes, parsed.header.payload_length));
    if (!response) die("the peer sent an invalid reply: " + response.error().message());
    on_response(*response);
    start += frame_bytes;
  }
  input_.erase(0, start);
  fill();
}

void Connection::on_response(const cairn::protocol::Response& response) {
  if (!authenticated_) {
    if (!is_done(response.body)) die("the peer refused the token (use --token or --token-file)");
    authenticated_ = true;
    run_.on_authenticated();
    return;
  }
  if (in_flight_.empty()) die("a reply to no request");
  const Clock::time_point sent = in_flight_.front();
  in_flight_.pop_front();
  run_.on_answered(sent, response.body);
}

double percentile_ms(const std::vector<std::uint32_t>& sorted, double fraction) {
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return sorted[index] / 1000.0;
}

bool parse_address(const std::string& text, LoadOptions& options) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  options.host = text.substr(0, colon);
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data() + colon + 1, end, options.port);
  return error == std::errc() && ptr == end && options.port != 0;
}

// The peer's commits and the writes they held so far (its cairn_store_commits_total and
// cairn_store_committed_writes_total metrics, read over the client protocol); nullopt when unavailable.
std::optional<std::pair<double, double>> commit_counts(const LoadOptions& options) {
  cairn::ClientOptions client_options;
  client_options.host = options.host;
  client_options.port = options.port;
  client_options.token = options.token;
  auto client = cairn::Client::connect(client_options);
  if (!client) return std::nullopt;
  auto samples = (*client)->stats();
  if (!samples) return std::nullopt;
  double commits = 0, writes = 0;
  for (const cairn::MetricSample& sample : *samples) {
    if (sample.name == "cairn_store_commits_total") commits = sample.value;
    if (sample.name == "cairn_store_committed_writes_total") writes = sample.value;
  }
  return std::pair{commits, writes};
}

}  // namespace

int main(int argc, char** argv) {
  LoadOptions options;
  std::string address = "127.0.0.1:7401", token_file, tests_text = "set,get,sadd,incr";
  bool csv = false;
  CLI::App app{"client_load: drives a cairn peer's client port as redis-benchmark drives Redis"};
  app.add_option("--connect", address, "Peer client address HOST:PORT")->capture_default_str();
  app.add_option("--token", options.token, "The peer's client token");
  app.add_option("--token-file", token_file, "Read the client token from this file (DATA_DIR/client.token)");
  app.add_option("-c,--clients", options.clients, "Connections")->capture_default_str()->check(CLI::Range(1, 10'000));
  app.add_option("-P,--pipeline", options.pipeline, "Requests in flight per connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000));
  app.add_option("-n,--requests", options.requests, "Requests per test")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("-r,--keyspace", options.keyspace, "Random keys, members and counters are drawn below this")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000'000}));
  app.add_option("-d,--value-bytes", options.value_bytes, "SET value size")->capture_default_str();
  app.add_option("-t,--tests", tests_text, "Tests to run, comma-separated: set, get, sadd, incr")->capture_default_str();
  app.add_flag("--csv", csv, "Print CSV (the columns of redis-benchmark --csv, plus p99.9)");
  CLI11_PARSE(app, argc, argv);
  if (!parse_address(address, options)) die("'" + address + "' is not HOST:PORT");
  if (!token_file.empty()) {
    auto tokens = cairn::secrets::read_secret_file(token_file);
    if (!tokens) die(tokens.error().message());
    options.token = tokens->front();
  }

  if (csv) std::printf("\"test\",\"rps\",\"min_latency_ms\",\"p50_latency_ms\",\"p99_latency_ms\",\"p999_latency_ms\",\"max_latency_ms\"\n");
  std::string_view remaining = tests_text;
  while (!remaining.empty()) {
    const std::string name(remaining.substr(0, remaining.find(',')));
    remaining.remove_prefix(std::min(remaining.size(), name.size() + 1));
    const auto& tests = all_tests();
    const auto test = std::find_if(tests.begin(), tests.end(), [&](const Test& t) { return t.name == name; });
    if (test == tests.end()) die("unknown test '" + name + "' (set, get, sadd, incr)");
    const auto commits_before = commit_counts(options);
    Run run(options, *test);
    run.execute();
    const auto commits_after = commit_counts(options);
    std::vector<std::uint32_t> sorted = run.latencies_us();
    std::sort(sorted.begin(), sorted.end());
    const double rps = static_cast<double>(sorted.size()) / run.elapsed_s();
    if (csv) {
      std::printf("\"%s\",\"%.2f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\"\n", name.c_str(), rps,
                  sorted.front() / 1000.0, percentile_ms(sorted, 0.5), percentile_ms(sorted, 0.99),
                  percentile_ms(sorted, 0.999), sorted.back() / 1000.0);
    } else {
      std::printf("%-5s %10.0f requests/s  latency ms: min %.3f  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
                  name.c_str(), rps, sorted.front() / 1000.0, percentile_ms(sorted, 0.5), percentile_ms(sorted, 0.99),
                  percentile_ms(sorted, 0.999), sorted.back() / 1000.0);
    }
    // Writes per commit during the test (group commit at work), on stderr so --csv stays redis-benchmark's.
    if (commits_before && commits_after && commits_after->first > commits_before->first) {
      std::fprintf(stderr, "%-5s %10.1f writes per commit (%.0f writes in %.0f commits)\n", name.c_str(),
                   (commits_after->second - commits_before->second) / (commits_after->first - commits_before->first),
                   commits_after->second - commits_before->second, commits_after->first - commits_before->first);
    }
    std::fflush(stdout);
  }
  return 0;
}
