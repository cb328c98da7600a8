// Operator habits with a real cairnd (issue 17 item 6): --log-format json lines, and /metrics after
// requests over both front doors carrying the latency histograms and the process_* metrics.
#include <hiredis/hiredis.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <regex>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "cairn/client.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/http_get.h"
#include "tests/support/exposition_check.h"
#include "tests/support/temp_dir.h"

namespace cairn::test {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

ClientOptions client_options(const DaemonProcess& daemon, const std::string& token) {
  ClientOptions options;
  options.host = "127.0.0.1";
  const std::string& address = daemon.client_address();
  options.port = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  options.token = token;
  return options;
}

// Requests over the client protocol: puts, gets and a missing key (an error reply is timed too).
void native_requests(const DaemonProcess& daemon, int count) {
  auto client = Client::connect(client_options(daemon, daemon.client_token()));
  REQUIRE(client);
  for (int i = 0; i < count; ++i) {
    REQUIRE((*client)->put("k" + std::to_string(i), "v"));
    REQUIRE((*client)->get("k" + std::to_string(i)));
  }
  CHECK_FALSE((*client)->get("missing"));
}

void resp_requests(const DaemonProcess& daemon, int count) {
  std::unique_ptr<redisContext, void (*)(redisContext*)> context(redisConnect("127.0.0.1", daemon.resp_port()),
                                                                 redisFree);
  REQUIRE(context);
  REQUIRE(context->err == 0);
  const auto command = [&](const std::string& text) {
    auto* reply = static_cast<redisReply*>(redisCommand(context.get(), text.c_str()));
    REQUIRE(reply != nullptr);
    const bool error = reply->type == REDIS_REPLY_ERROR;
    const std::string what = reply->str != nullptr ? reply->str : "";
    freeReplyObject(reply);
    INFO(text << ": " << what);
    CHECK_FALSE(error);
  };
  command("AUTH " + daemon.client_token());
  for (int i = 0; i < count; ++i) {
    command("SET r" + std::to_string(i) + " v");
    command("GET r" + std::to_string(i));
  }
}

}  // namespace

TEST_CASE("cairnd --log-format json writes one JSON object per line with the documented fields", "[e2e][ops]") {
  TempDir dir;
  const std::string log_path = dir.str() + "/stderr";
  // The data directory is named in the "serving" line: quotes, a backslash and a byte that is not UTF-8
  // must come out as valid JSON.
  const std::string data_dir = dir.str() + "/da\"ta\\\xff";
  {
    DaemonProcess daemon(CAIRND_PATH,
                         {"--data-dir", data_dir, "--gossip-port", "0", "--log-format", "json", "--log-level",
                          "debug", "--cluster-key-file", shared_cluster_key_file()},
                         log_path);
    native_requests(daemon, 3);
    // A client with a wrong token: a warn line of another component ("client").
    CHECK_FALSE(Client::connect(client_options(daemon, "not the token")));
    CHECK(daemon.stop() == 0);
  }
  std::ifstream file(log_path, std::ios::binary);
  const std::string log((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  INFO(log);
  const std::vector<std::string> lines = lines_of(log);
  REQUIRE(lines.size() >= 3);  // Serving, then the SIGTERM line and "stopped" at least.
  std::set<std::string> components, levels;
  for (const std::string& line : lines) {
    INFO(line);
    nlohmann::ordered_json object;  // Keeps the keys in the line's order.
    REQUIRE_NOTHROW(object = nlohmann::ordered_json::parse(line));
    REQUIRE(object.is_object());
    std::vector<std::string> keys;
    for (const auto& [key, value] : object.items()) {
      keys.push_back(key);
      CHECK(value.is_string());
    }
    CHECK(keys == std::vector<std::string>{"time", "level", "component", "message"});  // Documented order.
    const std::string time = object.at("time").get<std::string>();
    CHECK(std::regex_match(time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    const std::string level = object.at("level").get<std::string>();
    CHECK((level == "debug" || level == "info" || level == "warn" || level == "error"));
    levels.insert(level);
    components.insert(object.at("component").get<std::string>());
    CHECK_FALSE(object.at("message").get<std::string>().empty());
  }
  CHECK(components.count("cairnd") == 1);
  CHECK(components.count("client") == 1);
  CHECK(levels.count("warn") == 1);
  CHECK(nlohmann::json::parse(lines.back()).at("message") == "stopped");
  bool serving_line = false;
  for (const std::string& line : lines) {
    const std::string message = nlohmann::json::parse(line).at("message").get<std::string>();
    if (message.find("serving") != std::string::npos) {
      serving_line = true;
      CHECK(message.find("/da\"ta\\\xEF\xBF\xBD") != std::string::npos);  // 0xff became U+FFFD.
    }
  }
  CHECK(serving_line);
}

TEST_CASE("/metrics after requests carries latency histograms per op and process metrics, in valid format",
          "[e2e][ops][metrics]") {
  TempDir dir;
  DaemonProcess daemon(CAIRND_PATH, {"--data-dir", dir.str() + "/data", "--gossip-port", "0", "--cluster-key-file",
                                     shared_cluster_key_file()});
  const auto started = std::chrono::system_clock::now();
  native_requests(daemon, 20);
  resp_requests(daemon, 10);

  const HttpAnswer answer = http_get(daemon.http_port(), "/metrics");
  REQUIRE(answer.status == 200);
  INFO(answer.body);
  const ExpositionCheck check = check_exposition(answer.body);
  for (const std::string& problem : check.problems) UNSCOPED_INFO(problem);
  CHECK(check.problems.empty());

  // Native protocol: put and get each answered 20 times (+1 get of a missing key), each under 5 s.
  CHECK(check.types.at("cairn_client_request_duration_seconds") == "histogram");
  const auto count = [&](const std::string& family, const std::string& op) {
    const auto found = check.find(family + "_count", {{"op", op}});
    REQUIRE(found.size() == 1);
    return found.front().value;
  };
  const auto bucket = [&](const std::string& family, const std::string& op, const std::string& le) {
    const auto found = check.find(family + "_bucket", {{"op", op}, {"le", le}});
    REQUIRE(found.size() == 1);
    return found.front().value;
  };
  CHECK(count("cairn_client_request_duration_seconds", "put") == 20);
  CHECK(count("cairn_client_request_duration_seconds", "get") == 21);
  CHECK(bucket("cairn_client_request_duration_seconds", "put", "5") == 20);
  CHECK(bucket("cairn_client_request_duration_seconds", "put", "+Inf") == 20);
  const double put_sum = check.find("cairn_client_request_duration_seconds_sum", {{"op", "put"}}).front().value;
  CHECK(put_sum > 0);
  CHECK(put_sum < 20 * 5.0);
  CHECK(check.find("cairn_client_request_duration_seconds_count", {{"op", "watch"}}).empty());

  // RESP: SET and GET 10 times each.
  CHECK(check.types.at("cairn_resp_command_duration_seconds") == "histogram");
  CHECK(count("cairn_resp_command_duration_seconds", "set") == 10);
  CHECK(count("cairn_resp_command_duration_seconds", "get") == 10);
  CHECK(bucket("cairn_resp_command_duration_seconds", "get", "+Inf") == 10);

  // Process metrics of the cairnd process.
  const auto gauge = [&](const std::string& name) {
    const auto found = check.find(name);
    REQUIRE(found.size() == 1);
    return found.front().value;
  };
  CHECK(check.types.at("process_cpu_seconds_total") == "counter");
  CHECK(gauge("process_cpu_seconds_total") > 0);
  CHECK(gauge("process_resident_memory_bytes") > 1e6);
  CHECK(gauge("process_virtual_memory_bytes") > gauge("process_resident_memory_bytes"));
  CHECK(gauge("process_open_fds") >= 8);  // stdio, LMDB, the listeners' sockets at least.
  CHECK(gauge("process_max_fds") >= gauge("process_open_fds"));
  const double start = gauge("process_start_time_seconds");
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double test_start = std::chrono::duration<double>(started.time_since_epoch()).count();
  CHECK(start <= now + 1);
  CHECK(start >= test_start - 60);  // cairnd started during this test (the clock ticks at 1/100 s).
}

}  // namespace cairn::test
