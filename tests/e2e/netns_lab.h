// Hosts in network namespaces joined by a bridge in a namespace of its own, for partition tests (as
// root). Every namespace is named after this process, and all are deleted when the lab is destroyed,
// also when the test fails. Addresses 10.99.0.<i+1>/24 exist only inside these namespaces.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <thread>
#include <utility>

namespace cairn::test {

class NetnsLab {
 public:
  explicit NetnsLab(int hosts) : prefix_("cae" + std::to_string(getpid() % 100000)) {
    try {
      build(hosts);
    } catch (...) {  // A failed step (REQUIRE throws) still removes what was made.
      delete_all();
      throw;
    }
  }

  ~NetnsLab() { delete_all(); }
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  static std::string address(int i) { return "10.99.0." + std::to_string(i + 1); }

  // Cuts host `i` off from every other host, or connects it again.
  void cut(int i) { run("ip -n " + bridge() + " link set p" + std::to_string(i) + " down"); }
  void connect(int i) { run("ip -n " + bridge() + " link set p" + std::to_string(i) + " up"); }

  // Runs `work` (which must not throw) on a thread inside host `i`'s namespace: sockets and threads it
  // creates stay there.
  template <typename Work>
  void inside(int i, Work&& work) {
    bool entered = false;
    std::thread worker([&] {
      const int fd = open(("/var/run/netns/" + host(i)).c_str(), O_RDONLY | O_CLOEXEC);
      entered = fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
      if (fd >= 0) close(fd);
      if (entered) work();
    });
    worker.join();
    REQUIRE(entered);
  }

 private:
  void build(int hosts) {
    run("ip netns add " + bridge());
    created_.push_back(bridge());
    run("ip -n " + bridge() + " link add br0 type bridge");
    run("ip -n " + bridge() + " link set br0 up");
    for (int i = 0; i < hosts; ++i) {
      run("ip netns add " + host(i));
      created_.push_back(host(i));
      run("ip link add name eth0 netns " + host(i) + " type veth peer name p" + std::to_string(i) +
          " netns " + bridge());
      run("ip -n " + host(i) + " addr add " + address(i) + "/24 dev eth0");
      run("ip -n " + host(i) + " link set eth0 up");
      run("ip -n " + host(i) + " link set lo up");
      run("ip -n " + bridge() + " link set p" + std::to_string(i) + " master br0");
      run("ip -n " + bridge() + " link set p" + std::to_string(i) + " up");
    }
  }

  void delete_all() {
    for (const std::string& name : created_) {
      // Best effort: a namespace that is already gone needs nothing more.
      if (std::system(("ip netns del " + name + " 2>/dev/null").c_str()) != 0) continue;
    }
    created_.clear();
  }

  std::string bridge() const { return prefix_ + "br"; }
  std::string host(int i) const { return prefix_ + "h" + std::to_string(i); }

  static void run(const std::string& command) {
    INFO("command: " << command);
    REQUIRE(std::system((command + " > /dev/null").c_str()) == 0);
  }

  std::string prefix_;
  std::vector<std::string> created_;
};

}  // namespace cairn::test
