// What an edge application writes: open a store in a local directory, write while there is no
// network at all, close it (the device sleeps or the app restarts), open it again and read back.
//
//   embedded [DATA_DIR]     (default: ./cairn-embedded-data)
//   embedded --help         prints this usage
//
// Exits 0 when everything read back matches what was written; prints each step. A bad command line
// (an unknown option, more than one directory) exits 2 before anything is created.
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/store.h"

namespace {

constexpr const char* kUsage =
    "usage: embedded [DATA_DIR]\n"
    "Writes to a cairn store in DATA_DIR (default ./cairn-embedded-data, created if missing) with no\n"
    "network, closes it, reopens it and checks that everything written reads back.\n";

// The data directory named on the command line; nothing (with `exit_code` set) when the program
// should exit instead: 0 after --help, 2 for a bad command line.
std::optional<std::string> data_dir_from(int argc, char** argv, int& exit_code) {
  std::optional<std::string> data_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "-h" || argument == "--help") {
      std::fputs(kUsage, stdout);
      exit_code = 0;
      return std::nullopt;
    }
    // Every option is refused, so a mistyped flag never becomes a directory of that name.
    if (argument.size() > 1 && argument.front() == '-') {
      std::fprintf(stderr, "embedded: unknown option %s\n%s", argv[i], kUsage);
      exit_code = 2;
      return std::nullopt;
    }
    if (data_dir) {
      std::fprintf(stderr, "embedded: one DATA_DIR at most\n%s", kUsage);
      exit_code = 2;
      return std::nullopt;
    }
    data_dir = std::string(argument);
  }
  return data_dir.value_or("./cairn-embedded-data");
}

int failed(const char* step, const cairn::Error& error) {
  std::fprintf(stderr, "embedded: %s failed: %s\n", step, error.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  const std::optional<std::string> named = data_dir_from(argc, argv, exit_code);
  if (!named) return exit_code;
  const std::string& data_dir = *named;

  {
    auto opened = cairn::Store::open(data_dir);  // Durability::kGroup: acknowledged = on disk.
    if (!opened) return failed("open", opened.error());
    cairn::Store& store = **opened;
    std::printf("opened %s as replica %016llx\n", data_dir.c_str(),
                static_cast<unsigned long long>(store.replica_id()));

    // Offline writes: each call returns once the write is durable.
    if (auto done = store.put("device/name", "greenhouse-7"); !done) return failed("put", done.error());
    if (auto done = store.sadd("device/sensors", {"humidity", "soil", "temperature"}); !done) {
      return failed("sadd", done.error());
    }
    if (auto done = store.srem("device/sensors", {"soil"}); !done) return failed("srem", done.error());
    if (auto done = store.incr("device/boots"); !done) return failed("incr", done.error());

    // Expected failures are values, not crashes.
    auto wrong = store.incr("device/name");
    std::printf("incr on a register: %s\n", wrong ? "unexpectedly succeeded" : wrong.error().to_string().c_str());
    if (wrong) return 1;
    std::printf("wrote 4 changes offline; closing\n");
  }  // Closing the store (destroying it) finishes queued writes and closes LMDB.

  auto reopened = cairn::Store::open(data_dir);
  if (!reopened) return failed("reopen", reopened.error());
  cairn::Store& store = **reopened;

  auto name = store.get("device/name");
  if (!name) return failed("get", name.error());
  auto boots = store.counter("device/boots");
  if (!boots) return failed("counter", boots.error());
  auto members = store.smembers("device/sensors");
  if (!members) return failed("smembers", members.error());
  std::vector<std::string> sensors;
  for (;;) {
    auto member = (*members)->next();
    if (!member) return failed("smembers next", member.error());
    if (!member->has_value()) break;
    sensors.push_back(**member);
  }

  std::printf("after reopen: device/name=%s device/boots=%lld device/sensors=", name->value.c_str(),
              static_cast<long long>(*boots));
  for (const auto& sensor : sensors) std::printf("%s ", sensor.c_str());
  std::printf("\n");

  const bool as_written = name->value == "greenhouse-7" && *boots >= 1 &&
                          sensors == std::vector<std::string>{"humidity", "temperature"};
  std::printf("%s\n", as_written ? "everything written offline was read back" : "MISMATCH");
  return as_written ? 0 : 1;
}
