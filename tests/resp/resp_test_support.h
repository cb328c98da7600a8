// Helpers for the RESP tests: a RespSession over a real store in a temporary directory, driven with
// exact bytes, with the store's batch write recording each batch.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cairn/store.h"
#include "src/resp/batch.h"
#include "src/resp/session.h"
#include "src/resp/store_batch_writer.h"
#include "tests/resp/recording_batch_writer.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::test {

// Tests need no fsync: a commit that is not synced is still a commit to every reader.
inline StoreOptions fast_store_options() {
  StoreOptions options;
  options.durability = Durability::kNoSync;
  return options;
}

// The multibulk encoding of a command, as every client library sends it.
inline std::string command_bytes(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return out;
}

// A session over a real store, driven by hand: send bytes, run every step, read the replies.
class RespHarness {
 public:
  explicit RespHarness(resp::RespOptions options = {},
                       std::function<NodeStatus()> status = {},
                       std::function<std::vector<MetricSample>()> metrics = {})
      : store_(open_store(dir_.str(), fast_store_options())),
        recorder_(*store_),
        shared_(42),
        session_(std::make_unique<resp::RespSession>(
            resp::Services{*store_, recorder_, std::move(status), std::move(metrics)},
            std::move(options), shared_)) {}

  store::Replica& store() { return *store_; }
  resp::RespSession& session() { return *session_; }
  resp::RespShared& shared() { return shared_; }
  RecordingBatchWriter& recorder() { return recorder_; }

  // Feeds `bytes`, runs steps until the session is idle, returns every reply byte produced.
  std::string send(std::string_view bytes) {
    session_->receive(bytes);
    return run();
  }
  // Writes complete on the store's writer thread: while one is in flight and nothing else can run,
  // wait for it (the session's `wake` is not wired here).
  std::string run() {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int steps = 0; steps < 1'000'000 && std::chrono::steady_clock::now() < give_up;) {
      if (session_->has_work()) {
        session_->step();
        ++steps;
      } else if (session_->writes_in_flight() > 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      } else {
        break;
      }
    }
    return session_->take_output();
  }
  // One command in the multibulk form.
  std::string call(const std::vector<std::string>& args) { return send(command_bytes(args)); }

 private:
  TempDir dir_;
  std::unique_ptr<store::Replica> store_;
  RecordingBatchWriter recorder_;
  resp::RespShared shared_;
  std::unique_ptr<resp::RespSession> session_;
};

// Reply shorthands.
inline std::string ok_reply() { return "+OK\r\n"; }
inline std::string int_reply(long long value) { return ":" + std::to_string(value) + "\r\n"; }
inline std::string bulk_reply(const std::string& value) {
  return "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
}
inline std::string nil_reply() { return "$-1\r\n"; }
inline std::string error_reply(const std::string& text) { return "-" + text + "\r\n"; }
inline std::string array_reply(const std::vector<std::string>& bulks) {
  std::string out = "*" + std::to_string(bulks.size()) + "\r\n";
  for (const std::string& item : bulks) out += bulk_reply(item);
  return out;
}

}  // namespace cairn::test
