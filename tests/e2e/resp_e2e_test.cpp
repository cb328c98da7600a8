// The RESP port of a real cairnd (docs/resp.md) over real sockets on 127.0.0.1: authentication, every
// protocol error byte for byte and the close after it, bad input that must not be believed, two peers
// (a write through RESP on one is read through RESP on the other), hiredis as a client library, and
// redis-cli and Python's redis package when installed. Every daemon is stopped by its PID (RAII).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/daemon_process.h"
#include "tests/e2e/run_process.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using namespace std::chrono_literals;
using test::DaemonProcess;

std::vector<std::string> daemon_args(const std::string& data_dir, const std::vector<std::string>& seeds = {}) {
  std::vector<std::string> args{"--data-dir",           data_dir, "--gossip-port", "0", "--cluster", "resp-e2e",
                                "--gossip-interval-ms", "100",    "--durability",  "nosync",
                                "--cluster-key-file",   test::shared_cluster_key_file()};
  for (const std::string& seed : seeds) args.insert(args.end(), {"--seed", seed});
  return args;
}

// A plain TCP connection to the RESP port: bytes in, bytes out, and whether the server closed it.
class RespSocket {
 public:
  explicit RespSocket(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~RespSocket() { close(fd_); }
  RespSocket(const RespSocket&) = delete;
  RespSocket& operator=(const RespSocket&) = delete;

  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `expected` bytes arrived, the server closed, or 10 s passed.
  std::string read(std::size_t expected) {
    std::string received;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (received.size() < expected && !closed_ && std::chrono::steady_clock::now() < deadline) read_some(received);
    return received;
  }
  // Reads until the server closes (or 10 s pass): everything it sent before.
  std::string read_to_close() {
    std::string received;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!closed_ && std::chrono::steady_clock::now() < deadline) read_some(received);
    return received;
  }
  bool closed_by_server() const { return closed_; }
  void shutdown_sending() { ::shutdown(fd_, SHUT_WR); }

 private:
  void read_some(std::string& into) {
    pollfd readable{fd_, POLLIN, 0};
    if (poll(&readable, 1, 100) <= 0) return;
    char buffer[65536];
    const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got <= 0) {
      closed_ = true;  // EOF, or a reset after the server closed.
      return;
    }
    into.append(buffer, static_cast<std::size_t>(got));
  }

  int fd_;
  bool closed_ = false;
};

std::string command(const std::vector<std::string>& args) {
  std::string bytes = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) bytes += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return bytes;
}

// A daemon with its RESP port on an ephemeral port; its token authenticates.
struct RespDaemon {
  test::TempDir dir;
  DaemonProcess daemon{CAIRND_PATH, daemon_args(dir.str() + "/data")};
  std::string auth() const { return command({"AUTH", daemon.client_token()}); }
};

TEST_CASE("resp e2e: the ready line names the RESP port, and --resp-port off serves none") {
  RespDaemon served;
  REQUIRE(served.daemon.resp_port() != 0);
  CHECK(served.daemon.ready_line().find("\"resp\":\"127.0.0.1:" + std::to_string(served.daemon.resp_port()) + "\"") !=
        std::string::npos);

  test::TempDir dir;
  std::vector<std::string> args = daemon_args(dir.str() + "/data");
  args.insert(args.end(), {"--resp-port", "off"});
  DaemonProcess off(CAIRND_PATH, args);
  CHECK(off.resp_port() == 0);
  CHECK(off.ready_line().find("\"resp\"") == std::string::npos);
}

TEST_CASE("resp e2e: NOAUTH before AUTH, WRONGPASS for a wrong token, then commands") {
  RespDaemon peer;
  RespSocket socket(peer.daemon.resp_port());
  const std::string noauth = "-NOAUTH Authentication required.\r\n";
  socket.send(command({"GET", "k"}));
  CHECK(socket.read(noauth.size()) == noauth);
  const std::string wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
  socket.send(command({"AUTH", "not-the-token"}));
  CHECK(socket.read(wrongpass.size()) == wrongpass);
  socket.send(command({"AUTH", "default", peer.daemon.client_token()}));
  CHECK(socket.read(5) == "+OK\r\n");
  // Pipelined: three commands in one packet, three replies in order.
  socket.send(command({"SET", "k", "v"}) + command({"GET", "k"}) + command({"INCR", "n"}));
  const std::string replies = "+OK\r\n$1\r\nv\r\n:1\r\n";
  CHECK(socket.read(replies.size()) == replies);
  CHECK_FALSE(socket.closed_by_server());
}

TEST_CASE("resp e2e: every protocol error is Redis's text, and the connection closes after it") {
  RespDaemon peer;
  struct Case {
    std::string input;
    std::string reply;
    bool authenticated;
  };
  const std::vector<Case> cases = {
      {"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
      {"*1048577\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
      {"*1\r\nx\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n", true},
      {"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
      {"*1\r\n$1099511627776\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
      {"SET k \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", true},
      {"*1000000\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n", false},
      // As in Redis, the bulk limit is checked before the unauthenticated one.
      {"*1\r\n$1099511627776\r\n", "-ERR Protocol error: invalid bulk length\r\n", false},
      {"*1\r\n$16385\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n", false},
      {"*1\r\n$" + std::string(70000, '1'), "-ERR Protocol error: too big bulk count string\r\n", true},
      {"*" + std::string(70000, '1'), "-ERR Protocol error: too big mbulk count string\r\n", true},
      {std::string(70000, 'a'), "-ERR Protocol error: too big inline request\r\n", true},
  };
  for (const Case& c : cases) {
    INFO("input: " << c.input.substr(0, 40) << (c.authenticated ? " (after AUTH)" : " (before AUTH)"));
    RespSocket socket(peer.daemon.resp_port());
    std::string expected = c.reply;
    if (c.authenticated) {
      socket.send(peer.auth());
      expected = "+OK\r\n" + expected;
    }
    socket.send(c.input);
    CHECK(socket.read_to_close() == expected);
    CHECK(socket.closed_by_server());
  }
  // The peer served every one and still answers.
  RespSocket after(peer.daemon.resp_port());
  after.send(peer.auth() + command({"PING"}));
  CHECK(after.read(12) == "+OK\r\n+PONG\r\n");
}

TEST_CASE("resp e2e: an unterminated bulk is never answered, and the client's EOF closes it") {
  RespDaemon peer;
  RespSocket socket(peer.daemon.resp_port());
  socket.send(peer.auth() + command({"PING"}) + "*2\r\n$3\r\nGET\r\n$5\r\nab");
  CHECK(socket.read(12) == "+OK\r\n+PONG\r\n");
  socket.shutdown_sending();
  CHECK(socket.read_to_close().empty());
  CHECK(socket.closed_by_server());
}

TEST_CASE("resp e2e: QUIT answers OK and closes") {
  RespDaemon peer;
  RespSocket socket(peer.daemon.resp_port());
  socket.send(peer.auth() + command({"QUIT"}) + command({"PING"}));
  CHECK(socket.read_to_close() == "+OK\r\n+OK\r\n");
  CHECK(socket.closed_by_server());
}

TEST_CASE("resp e2e: a write through RESP on one peer is read through RESP on the other") {
  test::TempDir dir;
  DaemonProcess a(CAIRND_PATH, daemon_args(dir.str() + "/a"));
  DaemonProcess b(CAIRND_PATH, daemon_args(dir.str() + "/b", {a.gossip_address()}));
  RespSocket writer(a.resp_port());
  writer.send(command({"AUTH", a.client_token()}) + command({"SET", "greeting", "hello from a"}) +
              command({"SADD", "tags", "x", "y"}));
  CHECK(writer.read(13) == "+OK\r\n+OK\r\n:2\r\n");

  RespSocket reader(b.resp_port());
  reader.send(command({"AUTH", b.client_token()}));
  REQUIRE(reader.read(5) == "+OK\r\n");
  const std::string expected = "$12\r\nhello from a\r\n:2\r\n";
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    reader.send(command({"GET", "greeting"}) + command({"SCARD", "tags"}));
    const std::string got = reader.read(1);
    seen = got + reader.read(got.rfind("$-1", 0) == 0 ? 4 + 4 - got.size() : expected.size() - got.size());
    if (seen == expected) break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(seen == expected);
}

// hiredis: the C client library most Redis clients of other languages wrap.
TEST_CASE("resp e2e: hiredis connects, authenticates, pipelines and reads replies of every type") {
  RespDaemon peer;
  redisContext* raw = redisConnect("127.0.0.1", peer.daemon.resp_port());
  REQUIRE(raw != nullptr);
  std::unique_ptr<redisContext, void (*)(redisContext*)> context(raw, redisFree);
  REQUIRE(context->err == 0);
  const auto reply_of = [&](redisReply* reply) {
    REQUIRE(reply != nullptr);
    return std::unique_ptr<redisReply, void (*)(void*)>(reply, freeReplyObject);
  };
  const std::string token = peer.daemon.client_token();
  auto auth = reply_of(static_cast<redisReply*>(redisCommand(context.get(), "AUTH %s", token.c_str())));
  CHECK(auth->type == REDIS_REPLY_STATUS);
  CHECK(std::string(auth->str, auth->len) == "OK");

  // A binary value with CR, LF and NUL in it.
  const std::string value("a\r\nb\0c", 6);
  auto set = reply_of(static_cast<redisReply*>(redisCommand(context.get(), "SET %s %b", "bin", value.data(), value.size())));
  CHECK(set->type == REDIS_REPLY_STATUS);
  for (int i = 0; i < 100; ++i) redisAppendCommand(context.get(), "INCR counter");
  redisAppendCommand(context.get(), "GET bin");
  redisAppendCommand(context.get(), "SADD s a b c");
  redisAppendCommand(context.get(), "SMEMBERS s");
  redisAppendCommand(context.get(), "GET missing");
  redisAppendCommand(context.get(), "INCR bin");
  for (int i = 1; i <= 100; ++i) {
    void* raw_reply = nullptr;
    REQUIRE(redisGetReply(context.get(), &raw_reply) == REDIS_OK);
    auto incr = reply_of(static_cast<redisReply*>(raw_reply));
    REQUIRE(incr->type == REDIS_REPLY_INTEGER);
    CHECK(incr->integer == i);
  }
  void* raw_reply = nullptr;
  REQUIRE(redisGetReply(context.get(), &raw_reply) == REDIS_OK);
  auto get = reply_of(static_cast<redisReply*>(raw_reply));
  REQUIRE(get->type == REDIS_REPLY_STRING);
  CHECK(std::string(get->str, get->len) == value);
  REQUIRE(redisGetReply(context.get(), &raw_reply) == REDIS_OK);
  CHECK(reply_of(static_cast<redisReply*>(raw_reply))->integer == 3);
  REQUIRE(redisGetReply(context.get(), &raw_reply) == REDIS_OK);
  auto members = reply_of(static_cast<redisReply*>(raw_reply));
  REQUIRE(members->type == REDIS_REPLY_ARRAY);
  CHECK(members->elements == 3);
  REQUIRE(redisGetReply(context.get(), &raw_reply) == REDIS_OK);
  CHECK(reply_of(static_cast<redisReply*>(raw_reply))->type == REDIS_REPLY_NIL);
  REQUIRE(redisGetReply(context.get(), &raw_reply) == REDIS_OK);
  auto not_integer = reply_of(static_cast<redisReply*>(raw_reply));
  REQUIRE(not_integer->type == REDIS_REPLY_ERROR);
  CHECK(std::string(not_integer->str, not_integer->len) == "ERR value is not an integer or out of range");
}

// hiredis over two connections: MULTI/EXEC is one batch, and of two clients racing SETNX on the same
// keys exactly one wins each key (the read and the write are one conditional batch on this peer).
TEST_CASE("resp e2e: MULTI/EXEC through hiredis, and a SETNX race of two clients has one winner per key") {
  RespDaemon peer;
  const std::string token = peer.daemon.client_token();
  using Context = std::unique_ptr<redisContext, void (*)(redisContext*)>;
  using Reply = std::unique_ptr<redisReply, void (*)(void*)>;
  const auto connect = [&] {
    Context context(redisConnect("127.0.0.1", peer.daemon.resp_port()), redisFree);
    REQUIRE(context != nullptr);
    REQUIRE(context->err == 0);
    Reply auth(static_cast<redisReply*>(redisCommand(context.get(), "AUTH %s", token.c_str())), freeReplyObject);
    REQUIRE(auth != nullptr);
    REQUIRE(auth->type == REDIS_REPLY_STATUS);
    return context;
  };
  Context first = connect();
  Context second = connect();

  for (const char* command : {"MULTI", "SET tx-a 1", "SADD tx-s x y", "INCRBY tx-c 5"}) {
    Reply queued(static_cast<redisReply*>(redisCommand(first.get(), command)), freeReplyObject);
    REQUIRE(queued != nullptr);
    CHECK(queued->type == REDIS_REPLY_STATUS);
  }
  Reply exec(static_cast<redisReply*>(redisCommand(first.get(), "EXEC")), freeReplyObject);
  REQUIRE(exec != nullptr);
  REQUIRE(exec->type == REDIS_REPLY_ARRAY);
  REQUIRE(exec->elements == 3);
  CHECK(exec->element[1]->integer == 2);
  CHECK(exec->element[2]->integer == 5);
  Reply read(static_cast<redisReply*>(redisCommand(second.get(), "MGET tx-a tx-c")), freeReplyObject);
  REQUIRE(read != nullptr);
  REQUIRE(read->elements == 2);
  CHECK(std::string(read->element[0]->str, read->element[0]->len) == "1");
  CHECK(std::string(read->element[1]->str, read->element[1]->len) == "5");

  constexpr int kKeys = 200;
  std::vector<long long> wins[2];
  const auto race = [&](redisContext* context, int side) {
    for (int i = 0; i < kKeys; ++i) redisAppendCommand(context, "SETNX race-%d side%d", i, side);
    for (int i = 0; i < kKeys; ++i) {
      void* raw = nullptr;
      if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) return;
      Reply reply(static_cast<redisReply*>(raw), freeReplyObject);
      wins[side].push_back(reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1);
    }
  };
  std::thread one(race, first.get(), 0);
  std::thread two(race, second.get(), 1);
  one.join();
  two.join();
  REQUIRE(wins[0].size() == kKeys);
  REQUIRE(wins[1].size() == kKeys);
  for (int i = 0; i < kKeys; ++i) {
    INFO("key race-" << i);
    CHECK(wins[0][i] + wins[1][i] == 1);
    Reply value(static_cast<redisReply*>(redisCommand(first.get(), "GET race-%d", i)), freeReplyObject);
    REQUIRE(value != nullptr);
    REQUIRE(value->type == REDIS_REPLY_STRING);
    CHECK(std::string(value->str, value->len) == (wins[0][i] == 1 ? "side0" : "side1"));
  }
}

bool installed(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// redis-cli, scripted: what a person types, and its --pipe-less batch mode.
TEST_CASE("resp e2e: redis-cli scripted against cairnd") {
  if (!installed("/usr/bin/redis-cli")) {
    WARN("redis-cli is not installed (Debian redis-tools; scripts/install-deps.sh installs it)");
    return;
  }
  RespDaemon peer;
  const std::string port = std::to_string(peer.daemon.resp_port());
  const std::string token = peer.daemon.client_token();
  const auto cli = [&](std::vector<std::string> args) {
    std::vector<std::string> full{"-p", port, "--no-auth-warning", "-a", token};
    full.insert(full.end(), args.begin(), args.end());
    return test::run_process("/usr/bin/redis-cli", full);
  };
  CHECK(cli({"PING"}).out == "PONG\n");
  CHECK(cli({"SET", "cli-key", "hello world"}).out == "OK\n");
  CHECK(cli({"GET", "cli-key"}).out == "hello world\n");
  CHECK(cli({"INCRBY", "cli-counter", "41"}).out == "41\n");
  CHECK(cli({"INCR", "cli-counter"}).out == "42\n");
  CHECK(cli({"SADD", "cli-set", "a", "b"}).out == "2\n");
  CHECK(cli({"SISMEMBER", "cli-set", "b"}).out == "1\n");
  CHECK(cli({"TYPE", "cli-set"}).out == "set\n");
  CHECK(cli({"DEL", "cli-key"}).out == "1\n");
  CHECK(cli({"EXISTS", "cli-key"}).out == "0\n");
  CHECK(cli({"GET", "cli-counter"}).out == "42\n");
  CHECK(cli({"MSET", "m1", "one", "m2", "two", "cli-set", "now a string"}).out == "OK\n");
  CHECK(cli({"MGET", "m1", "m2", "cli-set", "nope"}).out == "one\ntwo\nnow a string\n\n");
  const auto wrong = test::run_process("/usr/bin/redis-cli", {"-p", port, "--no-auth-warning", "-a", "wrong", "PING"});
  CHECK((wrong.out + wrong.err).find("AUTH failed: WRONGPASS invalid username-password pair or user is disabled.") != std::string::npos);
  const auto unauthenticated = test::run_process("/usr/bin/redis-cli", {"-p", port, "GET", "x"});
  CHECK(unauthenticated.out.find("NOAUTH Authentication required.") != std::string::npos);
}

// Python's redis package (Debian python3-redis), a short smoke test.
TEST_CASE("resp e2e: Python's redis package sets, gets, pipelines and sees errors") {
  if (!installed("/usr/bin/python3") || system("/usr/bin/python3 -c 'import redis' 2>/dev/null") != 0) {
    WARN("python3-redis is not installed (scripts/install-deps.sh installs it)");
    return;
  }
  RespDaemon peer;
  const std::string script = peer.dir.str() + "/smoke.py";
  std::ofstream(script) << R"(import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), password=sys.argv[2])
assert r.ping() is True
assert r.set("py", "value") is True
assert r.get("py") == b"value"
pipe = r.pipeline(transaction=False)
for _ in range(50):
    pipe.incr("py-counter")
assert pipe.execute() == list(range(1, 51))
assert r.sadd("py-set", "a", "b", "a") == 2
assert r.smembers("py-set") == {b"a", b"b"}
try:
    r.incr("py")
    sys.exit("INCR of a non-integer value did not fail")
except redis.ResponseError as error:
    assert str(error) == "value is not an integer or out of range", str(error)
print("ok")
)";
  const auto result = test::run_process("/usr/bin/python3", {script, std::to_string(peer.daemon.resp_port()),
                                                             peer.daemon.client_token()});
  INFO(result.err);
  CHECK(result.out == "ok\n");
  CHECK(result.exit_code == 0);
}

}  // namespace
}  // namespace cairn
