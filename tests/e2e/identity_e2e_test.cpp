// A copied, restored or rolled-back data directory never reuses a replica id (issue 13 item 3), with
// real cairnd processes on loopback. The story: `mdb_copy` of a live peer's directory, started
// as another peer, joined under the same id; its acknowledged writes vanished and a counter settled at
// 10 / 1 / 10. And a peer whose data file was rolled back in place to an older copy (which keeps the
// inode, so the fingerprint cannot tell), written to while cut off and again once back. In both, every
// acknowledged write (registers, sets and counters) ends on every peer, and every peer ends equal.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/client.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/run_process.h"
#include "tests/e2e/store_polling.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using cairn::test::BackgroundProcess;
using cairn::test::eventually;
using cairn::test::TempDir;

constexpr char kCluster[] = "identity-e2e";

// A cairnd whose log (stderr) the test reads; its ready line comes through --ports-file. Stopped with
// SIGTERM (and reaped) when the object goes away, also when the test fails.
class LoggedDaemon {
 public:
  LoggedDaemon(const std::string& data_dir, const std::vector<std::string>& seeds, const std::string& cluster = kCluster)
      : data_dir_(data_dir), ports_file_(ports_dir_.str() + "/ports") {
    std::vector<std::string> arguments{"--data-dir",           data_dir,     "--gossip-port", "0",
                                       "--client-port",        "0",          "--http-port",   "0", "--resp-port", "0",
                                       "--gossip-interval-ms", "50",         "--cluster",     cluster,
                                       "--cluster-key-file",   cairn::test::shared_cluster_key_file(),
                                       "--ports-file",         ports_file_};
    for (const std::string& seed : seeds) arguments.insert(arguments.end(), {"--seed", seed});
    process_ = std::make_unique<BackgroundProcess>(CAIRND_PATH, arguments);
    REQUIRE(eventually([&] { return cairn::test::read_whole_file(ports_file_).find('\n') != std::string::npos; },
                       std::chrono::seconds(20)));
    const nlohmann::json ready = nlohmann::json::parse(cairn::test::read_whole_file(ports_file_));
    replica_ = ready.at("replica").get<std::string>();
    gossip_ = ready.at("gossip").get<std::string>();
    const std::string client = ready.at("client").get<std::string>();
    client_port_ = static_cast<std::uint16_t>(std::stoi(client.substr(client.rfind(':') + 1)));
  }
  ~LoggedDaemon() { stop(); }

  void stop() {
    if (process_) process_->kill_and_reap(SIGTERM);
  }
  std::string log() const { return process_->err(); }
  const std::string& replica() const { return replica_; }
  const std::string& gossip_address() const { return gossip_; }

  // A client connection; every test call goes through it.
  cairn::Client& client() {
    if (!client_) {
      cairn::ClientOptions options;
      options.port = client_port_;
      std::ifstream token_file(data_dir_ + "/client.token");
      std::getline(token_file, options.token);
      auto connected = cairn::Client::connect(options);
      INFO((connected ? std::string("connected") : connected.error().to_string()));
      REQUIRE(connected.has_value());
      client_ = std::move(*connected);
    }
    return *client_;
  }

 private:
  std::string data_dir_;
  TempDir ports_dir_;
  std::string ports_file_;
  std::unique_ptr<BackgroundProcess> process_;
  std::unique_ptr<cairn::Client> client_;
  std::string replica_, gossip_;
  std::uint16_t client_port_ = 0;
};

void require_ok(const cairn::Status& status) {
  INFO((status ? std::string("ok") : status.error().to_string()));
  REQUIRE(status.has_value());
}

// Every key and value a peer holds, as text: registers (with concurrent values), sets, counters.
std::string contents(LoggedDaemon& peer) {
  cairn::Client& client = peer.client();
  std::vector<std::string> keys;
  require_ok(client.scan("", [&](const std::string& key) {
    keys.push_back(key);
    return true;
  }));
  std::string text;
  for (const std::string& key : keys) {
    text += key + "=";
    auto kind = client.kind(key);
    if (!kind) continue;  // Deleted meanwhile.
    if (*kind == cairn::ValueKind::kRegister) {
      if (auto value = client.get(key)) {
        text += value->value;
        for (const std::string& other : value->concurrent) text += "|" + other;
      }
    } else if (*kind == cairn::ValueKind::kSet) {
      require_ok(client.smembers(key, [&](const std::string& member) {
        text += member + ",";
        return true;
      }));
    } else if (auto count = client.counter(key)) {
      text += std::to_string(*count);
    }
    text += ";";
  }
  return text;
}

bool all_equal(const std::vector<LoggedDaemon*>& peers) {
  const std::string first = contents(*peers.front());
  for (LoggedDaemon* peer : peers) {
    if (contents(*peer) != first) return false;
  }
  return true;
}

std::size_t alive_members(LoggedDaemon& peer) {
  auto status = peer.client().status();
  REQUIRE(status.has_value());
  std::size_t alive = 0;
  for (const auto& member : status->members) alive += member.state == "alive" ? 1 : 0;
  return alive;
}

std::string member_state(LoggedDaemon& peer, const std::string& replica_hex) {
  auto status = peer.client().status();
  REQUIRE(status.has_value());
  for (const auto& member : status->members) {
    if (member.id == std::stoull(replica_hex, nullptr, 16)) return member.state;
  }
  return "unknown";
}

// `mdb_copy` of a (live) peer's store into a new directory: a consistent copy of its data file.
void mdb_copy(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  const cairn::test::ProcessResult copied = cairn::test::run_process("/usr/bin/mdb_copy", {from, to});
  INFO("mdb_copy: " << copied.err);
  REQUIRE(copied.exit_code == 0);
}

std::uint64_t inode_of(const std::string& path) {
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status.st_ino;
}

// Restores `copy`'s data file into `dir`'s, in place (the inode stays), as `cp copy/data.mdb
// dir/data.mdb` or rolling back a VM snapshot does.
void restore_in_place(const std::string& copy, const std::string& dir) {
  const std::string target = dir + "/data.mdb";
  const std::uint64_t inode = inode_of(target);
  const std::string bytes = cairn::test::read_whole_file(copy + "/data.mdb");
  {
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  REQUIRE(inode_of(target) == inode);
}

TEST_CASE("e2e identity: an mdb_copy of a live peer started as another peer takes a new id, and every write counts once everywhere") {
  TempDir dir;
  LoggedDaemon p1(dir.str() + "/p1", {});
  LoggedDaemon p2(dir.str() + "/p2", {p1.gossip_address()});
  LoggedDaemon p3(dir.str() + "/p3", {p1.gossip_address()});
  REQUIRE(eventually([&] { return alive_members(p1) == 2 && alive_members(p2) == 2 && alive_members(p3) == 2; }));
  require_ok(p1.client().incr("ctr", 9));
  require_ok(p1.client().put("reg", "from-p1"));
  require_ok(p1.client().sadd("set", {"p1"}));

  mdb_copy(dir.str() + "/p1", dir.str() + "/p4");
  LoggedDaemon p4(dir.str() + "/p4", {p1.gossip_address()});
  CHECK(p4.replica() != p1.replica());
  REQUIRE(eventually([&] { return p4.log().find("is a copy") != std::string::npos; }, std::chrono::seconds(5)));
  CHECK_THAT(p4.log(), Catch::Contains(p1.replica()) && Catch::Contains(p4.replica()) &&
                           Catch::Contains("cairn retire " + p1.replica()));

  // Acknowledged writes on every peer, the copy included: a counter, registers, a set.
  std::vector<LoggedDaemon*> peers{&p1, &p2, &p3, &p4};
  for (std::size_t i = 0; i < peers.size(); ++i) {
    require_ok(peers[i]->client().incr("ctr", 1));
    require_ok(peers[i]->client().put("reg-" + std::to_string(i + 1), "v" + std::to_string(i + 1)));
    require_ok(peers[i]->client().sadd("set", {"m" + std::to_string(i + 1)}));
  }
  const auto everywhere = [&] {
    for (LoggedDaemon* peer : peers) {
      auto count = peer->client().counter("ctr");
      if (!count || *count != 13) return false;
    }
    return all_equal(peers);
  };
  CHECK(eventually(everywhere, std::chrono::seconds(30)));
  for (LoggedDaemon* peer : peers) {
    INFO("peer " << peer->replica());
    CHECK(*peer->client().counter("ctr") == 13);  // 9, then 1 on each of the four peers.
    CHECK(peer->client().get("reg")->value == "from-p1");
    for (int i = 1; i <= 4; ++i) CHECK(peer->client().get("reg-" + std::to_string(i))->value == "v" + std::to_string(i));
    for (const std::string member : {"p1", "m1", "m2", "m3", "m4"}) CHECK(*peer->client().sismember("set", member));
  }
  CHECK(member_state(p2, p1.replica()) == "alive");  // The original goes on under its own id.
}

TEST_CASE("e2e identity: a peer rolled back in place to an older copy, written to while cut off and once back, loses no acknowledged write") {
  TempDir dir;
  LoggedDaemon p1(dir.str() + "/p1", {});
  LoggedDaemon p3(dir.str() + "/p3", {p1.gossip_address()});
  auto p2 = std::make_unique<LoggedDaemon>(dir.str() + "/p2", std::vector<std::string>{p1.gossip_address()});
  REQUIRE(eventually([&] { return alive_members(p1) == 2 && alive_members(*p2) == 2; }));
  const std::string old_id = p2->replica();
  require_ok(p2->client().incr("ctr", 5));
  require_ok(p2->client().put("reg", "a"));
  require_ok(p2->client().sadd("set", {"x"}));
  // An older copy of the live peer's directory (a backup), then writes it does not hold, which every
  // peer acknowledges and holds.
  mdb_copy(dir.str() + "/p2", dir.str() + "/older");
  require_ok(p2->client().incr("ctr", 2));
  require_ok(p2->client().put("reg", "b"));
  require_ok(p2->client().sadd("set", {"y"}));
  require_ok(p2->client().put("after-backup", "k"));
  require_ok(p1.client().incr("ctr", 10));
  REQUIRE(eventually([&] {
    auto count = p3.client().counter("ctr");
    return count && *count == 17 && p3.client().get("after-backup");
  }));
  p2->stop();
  p2.reset();

  // The older copy written back into the same file, started cut off from the cluster (another
  // cluster name: every frame is dropped both ways) and written to, then started among its peers.
  restore_in_place(dir.str() + "/older", dir.str() + "/p2");
  {
    LoggedDaemon cut_off(dir.str() + "/p2", {p1.gossip_address()}, "somewhere-else");
    CHECK(cut_off.replica() == old_id);  // The same file: nothing to notice on open.
    require_ok(cut_off.client().incr("ctr", 30));
    require_ok(cut_off.client().put("written-cut-off", "c"));
    require_ok(cut_off.client().sadd("set", {"z"}));
  }
  LoggedDaemon back(dir.str() + "/p2", {p1.gossip_address()});
  require_ok(back.client().incr("ctr", 100));
  require_ok(back.client().put("written-back", "w"));

  std::vector<LoggedDaemon*> peers{&p1, &back, &p3};
  const auto settled = [&] {
    for (LoggedDaemon* peer : peers) {
      auto count = peer->client().counter("ctr");
      if (!count || *count != 147) return false;
    }
    return all_equal(peers);
  };
  CHECK(eventually(settled, std::chrono::seconds(60)));
  CHECK_THAT(back.log(), Catch::Contains("another copy of this data directory writes as replica " + old_id));
  auto status = back.client().status();
  REQUIRE(status.has_value());
  CHECK(status->replica_id != std::stoull(old_id, nullptr, 16));
  for (LoggedDaemon* peer : peers) {
    INFO("peer " << peer->client().status()->replica_id);
    CHECK(*peer->client().counter("ctr") == 147);  // 5 + 2 + 10 + 30 + 100, each once.
    CHECK(peer->client().get("reg")->value == "b");
    CHECK(peer->client().get("after-backup")->value == "k");
    CHECK(peer->client().get("written-cut-off")->value == "c");
    CHECK(peer->client().get("written-back")->value == "w");
    for (const std::string member : {"x", "y", "z"}) CHECK(*peer->client().sismember("set", member));
  }
  // The id it gave up was announced as left, so no member keeps probing it at its old endpoint.
  CHECK(eventually([&] { return member_state(p1, old_id) == "left"; }, std::chrono::seconds(10)));
}

}  // namespace
