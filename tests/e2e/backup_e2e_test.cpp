// Backup and restore with real cairnd processes on loopback (issue 17 item 1, docs/operations.md):
// a backup taken over the client protocol while writes go on, restored twice and joined to the
// cluster. Every write acknowledged before the backup began is in the backup; the restored peers
// take distinct new replica ids, converge with the others, and no acknowledged write is lost anywhere.
// A backup with one byte flipped is refused; a backup of a running peer's directory works offline.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/client.h"
#include "cairn/store.h"
#include "src/util/hex_id.h"
#include "tests/e2e/cli_test_support.h"

namespace {

namespace fs = std::filesystem;
using namespace cairn::test::cli_e2e;
using cairn::test::DaemonProcess;
using cairn::test::TempDir;

std::unique_ptr<cairn::Client> connect(const DaemonProcess& daemon) {
  auto client = cairn::Client::connect(client_options(daemon));
  INFO((client ? std::string("connected") : client.error().to_string()));
  REQUIRE(client.has_value());
  return std::move(*client);
}

// Runs the CLI with no peer attached (offline commands).
cairn::test::ProcessResult offline_cli(std::vector<std::string> arguments) {
  return cairn::test::run_process(CAIRN_CLI_PATH, arguments, std::chrono::seconds(60));
}

// The keys of `client`'s peer under `prefix`.
std::set<std::string> keys_of(cairn::Client& client, const std::string& prefix) {
  std::set<std::string> keys;
  auto scanned = client.scan(prefix, [&](const std::string& key) {
    keys.insert(key);
    return true;
  });
  REQUIRE(scanned.has_value());
  return keys;
}

// Writes "load-N" registers to a peer until stopped, remembering each acknowledged one.
class WriteLoad {
 public:
  explicit WriteLoad(const DaemonProcess& daemon) : client_(connect(daemon)) {
    thread_ = std::thread([this] {
      for (int n = 0; !stop_; ++n) {
        const std::string key = "load-" + std::to_string(n);
        if (client_->put(key, "v" + std::to_string(n))) {
          std::lock_guard lock(mutex_);
          acknowledged_.insert(key);
        }
      }
    });
  }
  ~WriteLoad() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::set<std::string> acknowledged() {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }

 private:
  std::unique_ptr<cairn::Client> client_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::set<std::string> acknowledged_;
  std::thread thread_;
};

void flip_a_byte(const std::string& path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(file);
  file.seekg(100);
  char byte = 0;
  file.get(byte);
  file.seekp(100);
  file.put(static_cast<char>(byte ^ 0x5a));
}

}  // namespace

TEST_CASE("backup: taken under write load and restored twice, every acknowledged write survives and all converge") {
  TempDir dirs;
  const std::string backup = dirs.str() + "/backup";
  DaemonProcess a = start_daemon(dirs.str() + "/a");
  DaemonProcess b = start_daemon(dirs.str() + "/b", {"--seed", a.gossip_address()});
  auto client_a = connect(a);
  REQUIRE(client_a->sadd("set", {"m1", "m2", std::string("\xff\x00", 2)}));
  REQUIRE(client_a->incr("counter", 5));

  WriteLoad load(a);
  REQUIRE(eventually([&] { return load.acknowledged().size() >= 100; }));
  const std::set<std::string> before_backup = load.acknowledged();
  const auto backed_up = cli(a, {"backup", backup, "--json"});
  INFO("backup stdout: " << backed_up.out << "\nstderr: " << backed_up.err);
  REQUIRE(backed_up.exit_code == kExitOk);
  const Json manifest = Json::parse(backed_up.out);
  CHECK(manifest.at("replica") == a.replica());
  // Streamed over the client protocol: --connect names the peer (--data-dir only says where the token is).
  CHECK(manifest.at("source") == "peer " + a.client_address());
  REQUIRE(eventually([&] { return load.acknowledged().size() >= before_backup.size() + 100; }));
  load.stop();
  const std::set<std::string> acknowledged = load.acknowledged();
  CHECK(fs::exists(backup + "/manifest.json"));
  CHECK(offline_cli({"verify-backup", backup}).exit_code == kExitOk);

  // Restored twice: two new, distinct replicas, each holding every write acknowledged before the backup.
  std::vector<std::string> restored_ids;
  for (const char* name : {"/r1", "/r2"}) {
    const auto restored = offline_cli({"restore", backup, dirs.str() + name, "--json"});
    INFO("restore stdout: " << restored.out << "\nstderr: " << restored.err);
    REQUIRE(restored.exit_code == kExitOk);
    const Json outcome = Json::parse(restored.out);
    CHECK(outcome.at("original_replica") == a.replica());
    restored_ids.push_back(outcome.at("replica").get<std::string>());
    cairn::StoreOptions read_only;
    read_only.read_only = true;
    read_only.create_if_missing = false;
    auto store = cairn::Store::open(dirs.str() + name, read_only);
    REQUIRE(store.has_value());
    std::size_t missing = 0;
    for (const std::string& key : before_backup) missing += (*store)->get(key).has_value() ? 0 : 1;
    CHECK(missing == 0);
    CHECK((*store)->counter("counter").value_or(0) == 5);
    CHECK((*store)->sismember("set", std::string("\xff\x00", 2)).value_or(false));
  }
  CHECK(restored_ids[0] != restored_ids[1]);
  CHECK(restored_ids[0] != a.replica());
  CHECK(restored_ids[1] != a.replica());

  // Joined: each restored peer catches up; every peer ends with every acknowledged write.
  DaemonProcess r1 = start_daemon(dirs.str() + "/r1", {"--seed", a.gossip_address()});
  DaemonProcess r2 = start_daemon(dirs.str() + "/r2", {"--seed", b.gossip_address()});
  CHECK(r1.replica() == restored_ids[0]);
  CHECK(r2.replica() == restored_ids[1]);
  auto client_r1 = connect(r1);
  auto client_r2 = connect(r2);
  auto client_b = connect(b);
  REQUIRE(client_r1->put("written-on-r1", "x"));
  REQUIRE(client_r2->incr("counter", 2));
  std::set<std::string> expected = acknowledged;
  expected.insert("written-on-r1");
  for (cairn::Client* client : {client_a.get(), client_b.get(), client_r1.get(), client_r2.get()}) {
    const bool converged = eventually([&] {
      const std::set<std::string> keys = keys_of(*client, "load-");
      return std::includes(keys.begin(), keys.end(), acknowledged.begin(), acknowledged.end()) &&
             client->get("written-on-r1").has_value() && client->counter("counter").value_or(0) == 7;
    });
    INFO("peer " << client->address());
    CHECK(converged);
  }
  CHECK(keys_of(*client_r1, "") == keys_of(*client_a, ""));
  CHECK(keys_of(*client_r2, "") == keys_of(*client_b, ""));
}

TEST_CASE("backup: a backup with one byte flipped is refused by verify and restore, and nothing is restored") {
  TempDir dirs;
  DaemonProcess a = start_daemon(dirs.str() + "/a");
  auto client = connect(a);
  REQUIRE(client->put("k", "v"));
  const std::string backup = dirs.str() + "/backup";
  REQUIRE(cli(a, {"backup", backup}).exit_code == kExitOk);
  flip_a_byte(backup + "/data.mdb");
  const auto verified = offline_cli({"verify-backup", backup});
  CHECK(verified.exit_code != kExitOk);
  CHECK_THAT(verified.err, Catch::Contains("is corrupt") && Catch::Contains("checksum"));
  const auto restored = offline_cli({"restore", backup, dirs.str() + "/new"});
  CHECK(restored.exit_code != kExitOk);
  CHECK_THAT(restored.err, Catch::Contains("is corrupt"));
  CHECK((!fs::exists(dirs.str() + "/new") || fs::is_empty(dirs.str() + "/new")));
}

TEST_CASE("backup: restore refuses a directory that is not empty") {
  TempDir dirs;
  DaemonProcess a = start_daemon(dirs.str() + "/a");
  const std::string backup = dirs.str() + "/backup";
  REQUIRE(cli(a, {"backup", backup}).exit_code == kExitOk);
  fs::create_directories(dirs.str() + "/busy");
  std::ofstream(dirs.str() + "/busy/something") << "x";
  const auto restored = offline_cli({"restore", backup, dirs.str() + "/busy"});
  CHECK(restored.exit_code != kExitOk);
  CHECK_THAT(restored.err, Catch::Contains("not empty"));
  CHECK(!fs::exists(dirs.str() + "/busy/data.mdb"));
}

TEST_CASE("backup: --data-dir copies a running peer's directory offline, consistent and restorable") {
  TempDir dirs;
  DaemonProcess a = start_daemon(dirs.str() + "/a");
  auto client = connect(a);
  for (int n = 0; n < 50; ++n) REQUIRE(client->put("k" + std::to_string(n), "v"));
  const std::string backup = dirs.str() + "/backup";
  const auto backed_up = offline_cli({"backup", "--data-dir", a.data_dir(), backup, "--json"});
  INFO("stdout: " << backed_up.out << "\nstderr: " << backed_up.err);
  REQUIRE(backed_up.exit_code == kExitOk);
  CHECK(Json::parse(backed_up.out).at("replica") == a.replica());
  CHECK(Json::parse(backed_up.out).at("source") == "directory " + a.data_dir());
  REQUIRE(offline_cli({"restore", backup, dirs.str() + "/r"}).exit_code == kExitOk);
  cairn::StoreOptions read_only;
  read_only.read_only = true;
  read_only.create_if_missing = false;
  auto store = cairn::Store::open(dirs.str() + "/r", read_only);
  REQUIRE(store.has_value());
  for (int n = 0; n < 50; ++n) CHECK((*store)->get("k" + std::to_string(n)).has_value());
}

TEST_CASE("export and import: JSON lines from one peer into another round-trip every byte, and re-import changes nothing") {
  TempDir dirs;
  DaemonProcess a = start_daemon(dirs.str() + "/a");
  DaemonProcess b = start_daemon(dirs.str() + "/b");  // No seed: its own cluster, so only import fills it.
  auto client_a = connect(a);
  const std::string odd_key("\xff\x00key", 5), odd_value("\xc3\x28\x00", 3);
  REQUIRE(client_a->put(odd_key, odd_value));
  REQUIRE(client_a->put("plain", "text"));
  std::vector<std::string> members;
  for (int i = 0; i < 10'000; ++i) members.push_back("member-" + std::to_string(i));
  members.push_back(odd_value);
  REQUIRE(client_a->sadd("big-set", members));
  REQUIRE(client_a->incr("positive", 12));
  REQUIRE(client_a->decr("negative", 30));

  const std::string file = dirs.str() + "/export.jsonl";
  const auto exported = cli(a, {"export"});
  REQUIRE(exported.exit_code == kExitOk);
  std::ofstream(file, std::ios::binary) << exported.out;
  CHECK(std::count(exported.out.begin(), exported.out.end(), '\n') == 5);
  const auto with_metadata = cli(a, {"export", "plain", "--with-metadata"});
  REQUIRE(with_metadata.exit_code == kExitOk);
  CHECK(Json::parse(with_metadata.out).at("version_vector").at(0).at("replica") == a.replica());

  const Json first = cli_json(b, {"import", file});
  CHECK(first.at("keys") == 5);
  CHECK(first.at("changed") == 5);
  CHECK(first.at("failed") == 0);
  const auto from_b = cli(b, {"export"});
  CHECK(from_b.out == exported.out);

  const Json again = cli_json(b, {"import", file});
  CHECK(again.at("unchanged") == 5);
  CHECK(again.at("writes") == 0);
  auto client_b = connect(b);
  CHECK(client_b->counter("positive").value() == 12);
  CHECK(client_b->counter("negative").value() == -30);
  CHECK(client_b->get(odd_key)->value == odd_value);

  // Offline, from the directory of the running peer, the same lines.
  const auto offline = offline_cli({"export", "--data-dir", b.data_dir()});
  CHECK(offline.exit_code == kExitOk);
  CHECK(offline.out == exported.out);
}

TEST_CASE("backup: a client that stops after the first chunk cancels it, and the connection and the peer go on") {
  TempDir dirs;
  DaemonProcess a = start_daemon(dirs.str() + "/a");
  auto client = connect(a);
  std::vector<std::string> members;
  for (int i = 0; i < 20'000; ++i) members.push_back("member-" + std::to_string(i) + std::string(40, 'm'));
  REQUIRE(client->sadd("big", members));
  std::size_t chunks = 0;
  REQUIRE(client->backup([&](const std::string& chunk) {
    CHECK(!chunk.empty());
    ++chunks;
    return false;
  }));
  CHECK(chunks == 1);
  REQUIRE(client->put("after", "cancel"));
  CHECK(client->get("after")->value == "cancel");
  std::string whole;
  REQUIRE(client->backup([&](const std::string& chunk) {
    whole += chunk;
    return true;
  }));
  CHECK(whole.size() > std::size_t{1} << 20);
}

TEST_CASE("backup: restore --retire-original proposes retiring a lost original at the running peer") {
  TempDir dirs;
  const std::string config = dirs.str() + "/cairnd.toml";
  // Fast failure detection, so the killed original is dead within seconds; no automatic retirement.
  { std::ofstream(config) << "[gossip]\nprotocol_period_ms = 200\nsuspicion_timeout_ms = 1000\nretire_after_ms = 0\n"; }
  DaemonProcess a = start_daemon(dirs.str() + "/a", {"--config", config});
  DaemonProcess b = start_daemon(dirs.str() + "/b", {"--config", config, "--seed", a.gossip_address()});
  auto client_a = connect(a);
  REQUIRE(client_a->put("k", "v"));
  const std::string backup = dirs.str() + "/backup";
  REQUIRE(cli(a, {"backup", backup}).exit_code == kExitOk);
  const std::string original = a.replica();

  // While the original still runs, B refuses to retire it: the restore itself succeeds, the exit says why.
  const auto reachable = cli(b, {"restore", backup, dirs.str() + "/early", "--retire-original"});
  CHECK(reachable.exit_code == kExitInvalid);
  CHECK_THAT(reachable.err, Catch::Contains("reachable"));
  CHECK(fs::exists(dirs.str() + "/early/data.mdb"));

  a.kill_hard();  // Lost for good.
  auto client_b = connect(b);
  const auto state_of_a = [&] {
    auto status = client_b->status();
    if (!status) return std::string("(status failed)");
    for (const cairn::NodeStatus::Member& member : status->members) {
      if (cairn::hex_id(member.id) == original) return member.state;
    }
    return std::string("(unknown)");
  };
  REQUIRE(eventually([&] { return state_of_a() == "dead"; }));
  const Json restored = cli_json(b, {"restore", backup, dirs.str() + "/r", "--retire-original"});
  CHECK(restored.at("original_replica") == original);
  CHECK(restored.at("original_retirement_proposed") == true);
  const auto again = cli(b, {"retire", original});  // Already proposed (or decided).
  CHECK(again.exit_code == kExitOk);
}

TEST_CASE("backup: cairnd --restore restores into a new directory and starts as a new replica, and it refuses a used or corrupt one") {
  TempDir dirs;
  DaemonProcess a = start_daemon(dirs.str() + "/a");
  auto client = connect(a);
  REQUIRE(client->put("k", "before the backup"));
  const std::string backup = dirs.str() + "/backup";
  REQUIRE(cli(a, {"backup", backup}).exit_code == kExitOk);
  {
    DaemonProcess restored = start_daemon(dirs.str() + "/r", {"--restore", backup});
    CHECK(restored.replica() != a.replica());
    auto restored_client = connect(restored);
    CHECK(restored_client->get("k")->value == "before the backup");
  }
  // Started again with --restore, the directory is not empty any more: refused, exit 1, nothing touched.
  const auto again = cairn::test::run_process(
      CAIRND_PATH, {"--restore", backup, "--data-dir", dirs.str() + "/r", "--gossip-port", "0", "--client-port", "0",
                    "--http-port", "0", "--resp-port", "0"},
      std::chrono::seconds(30));
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.err, Catch::Contains("cannot restore") && Catch::Contains("not empty"));
  flip_a_byte(backup + "/data.mdb");
  const auto corrupt = cairn::test::run_process(
      CAIRND_PATH, {"--restore", backup, "--data-dir", dirs.str() + "/r2", "--gossip-port", "0", "--client-port", "0",
                    "--http-port", "0", "--resp-port", "0"},
      std::chrono::seconds(30));
  CHECK(corrupt.exit_code == 1);
  CHECK_THAT(corrupt.err, Catch::Contains("is corrupt"));
  CHECK(!fs::exists(dirs.str() + "/r2/data.mdb"));
}

TEST_CASE("backup: the progress bar is drawn on a terminal only") {
  TempDir dirs;
  DaemonProcess a = start_daemon(dirs.str() + "/a");
  auto client = connect(a);
  REQUIRE(client->put("k", "v"));
  const auto piped = cli(a, {"backup", dirs.str() + "/piped"});
  REQUIRE(piped.exit_code == kExitOk);
  CHECK(piped.err.find('\r') == std::string::npos);  // stderr is a pipe here: nothing drawn.
  // The bar's total is the peer's cairn_lmdb_file_bytes, published about once a second.
  REQUIRE(eventually([&] {
    auto samples = client->stats();
    if (!samples) return false;
    for (const cairn::MetricSample& sample : *samples) {
      if (sample.name == "cairn_lmdb_file_bytes" && sample.value > 0) return true;
    }
    return false;
  }));
  // script(1) (bsdutils) runs the CLI on a pseudo-terminal and copies what it drew.
  const std::string command = std::string(CAIRN_CLI_PATH) + " --connect " + a.client_address() + " --data-dir " +
                              a.data_dir() + " backup " + dirs.str() + "/on-tty";
  const auto drawn = cairn::test::run_process("/usr/bin/script", {"-qec", command, "/dev/null"}, std::chrono::seconds(30));
  INFO("script output: " << drawn.out << drawn.err);
  CHECK(drawn.exit_code == kExitOk);
  CHECK_THAT(drawn.out, Catch::Contains("\rbackup: ") && Catch::Contains("MiB [") && Catch::Contains("%"));
  CHECK(fs::exists(dirs.str() + "/on-tty/manifest.json"));
}
