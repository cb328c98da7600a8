// cairn: looks inside a running cairn peer over its client port, and reads data directories offline.
//
//   cairn [--connect HOST:PORT] [--json] [--timeout-ms N] [--token T | --token-file F | --data-dir D] COMMAND ...
//
// The options before COMMAND may also come after it (`cairn get k --json`). The client token
// (docs/security.md) comes from, first found: --token, --token-file, $CAIRN_TOKEN, --data-dir DIR
// (DIR/client.token), then ./cairn-data/client.token (a local peer's default); `dump` reads the
// --data-dir directory itself and needs no token.
//
// Every command prints clear text for people, or JSON with --json for scripts; the exit codes are in
// exit_codes.h and in `cairn --help`.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cairn_build_info.h"
#include "src/protocol/protocol.h"
#include "src/util/secret_file.h"

#include "tools/cairn/commands.h"
#include "tools/cairn/completion.h"
#include "tools/cairn/exit_codes.h"
#include "tools/cairn/value_input.h"

namespace {

using namespace cairn::cli;

// "host:port" or "[v6]:port" into the client options; false when it is neither.
bool parse_address(const std::string& text, cairn::ClientOptions& options) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::uint16_t port = 0;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(begin, end, port);
  if (error != std::errc() || ptr != end || port == 0) return false;
  options.host = host;
  options.port = port;
  return true;
}

// The token from the first source that is set (see the top of the file); empty when none is. A token
// file that is named but cannot be read is an error.
cairn::Result<std::string> find_token(const std::string& token, const std::string& token_file,
                                      const std::string& data_dir) {
  if (!token.empty()) return token;
  std::string file = token_file;
  if (file.empty()) {
    if (const char* from_environment = std::getenv("CAIRN_TOKEN"); from_environment && *from_environment) {
      return std::string(from_environment);
    }
    if (!data_dir.empty()) {
      file = data_dir + "/client.token";
    } else if (std::filesystem::exists("cairn-data/client.token")) {
      file = "cairn-data/client.token";
    }
  }
  if (file.empty()) return std::string();
  auto tokens = cairn::secrets::read_secret_file(file);
  if (!tokens) return tl::unexpected(tokens.error());
  return tokens->front();
}

// put's value: VALUE as given, or all of standard input (VALUE "-") or of --value-file FILE. Throws a
// usage error (exit 2) when there is none or FILE cannot be opened; returns the other failures (a value
// over the store's limit, a read error).
cairn::Result<std::string> value_for_put(const CLI::Option& value_argument, const std::string& value,
                                         const std::string& value_file) {
  const bool from_input = !value_file.empty() || value == kStandardInput;
  if (!from_input && value_argument.count() == 0) {
    throw CLI::ValidationError("put", "needs a VALUE, '-' for standard input, or --value-file FILE");
  }
  if (!from_input) return value;
  auto read = read_value(value_file.empty() ? std::string(kStandardInput) : value_file);
  if (!read && read.error().code() == cairn::ErrorCode::kInvalidArgument) {
    throw CLI::ValidationError("--value-file", read.error().message());
  }
  return read;
}

}  // namespace

int main(int argc, char** argv) {
  Context context;
  std::string address = "127.0.0.1:7401";
  if (const char* from_environment = std::getenv("CAIRN_CONNECT")) address = from_environment;
  bool json = false;

  CLI::App app{"cairn: look inside a cairn peer (cairnd) and read its data.\n"
               "Talks to a peer's client port (--connect, or CAIRN_CONNECT; default 127.0.0.1:7401);\n"
               "`dump` reads a data directory offline instead."};
  app.footer(kExitCodesHelp);
  app.set_version_flag("--version", std::string("cairn ") + cairn::build_info::kVersion + " (commit " +
                                        cairn::build_info::kCommit + ")");
  // Options of the root app are also accepted after the subcommand (`cairn get k --json`); given twice
  // (before and after it), the last one counts, as in most command lines.
  app.fallthrough();
  app.require_subcommand(1);
  const auto last_wins = [](CLI::Option* option) { option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); };
  auto* connect_option = app.add_option("--connect", address, "Peer client address HOST:PORT (env CAIRN_CONNECT)");
  last_wins(connect_option->capture_default_str());
  last_wins(app.add_option("--timeout-ms", context.client.timeout_ms,
                           "Connect timeout; also the base of every send and reply wait (docs/cli.md)")
                ->capture_default_str());
  app.add_flag("--json", json, "Print JSON for scripts (streamed lists are one JSON array; watch prints JSON lines)");
  std::string token, token_file;
  last_wins(app.add_option("--token", token, "The peer's client token (else --token-file, env CAIRN_TOKEN, --data-dir, "
                                             "./cairn-data/client.token)"));
  last_wins(app.add_option("--token-file", token_file, "Read the client token from this file"));
  std::string data_dir;
  last_wins(app.add_option("--data-dir", data_dir,
                           "A local peer's data directory: its client.token is used; `dump` reads it"));

  std::string key, value, value_file, prefix, member;
  std::vector<std::string> members;
  std::int64_t amount = 1;
  bool raw = false;
  int exit_code = kExitOk;
  const auto run = [&](CLI::App* command, auto action) { command->callback([&, action] { exit_code = action(); }); };

  auto* put = app.add_subcommand("put", "Write a register: put KEY VALUE, put KEY - (value from standard input), "
                                        "put KEY --value-file FILE");
  put->add_option("key", key)->required();
  auto* value_argument = put->add_option("value", value, "The value; '-' reads it from standard input, byte for byte");
  auto* value_file_option =
      put->add_option("-f,--value-file", value_file, "Read the value from FILE, byte for byte ('-': standard input)");
  value_argument->excludes(value_file_option);
  run(put, [&] {
    auto put_value = value_for_put(*value_argument, value, value_file);
    if (!put_value) return context.out.failure(put_value.error());
    return put_command(context, key, *put_value);
  });

  auto* get = app.add_subcommand("get", "Read a register; shows concurrent values that lost the tie-break");
  get->add_option("key", key)->required();
  get->add_flag("--raw", raw, "Print only the value, byte for byte as stored: no escaping, no newline added");
  run(get, [&] {
    if (raw && context.out.json()) throw CLI::ValidationError("--raw", "--raw and --json exclude each other");
    return raw ? get_raw_command(context, key) : get_command(context, key);
  });

  auto* del = app.add_subcommand("del", "Delete a key of any type");
  del->add_option("key", key)->required();
  run(del, [&] { return del_command(context, key); });

  // A lone "-" for the members reads them from standard input, one per line.
  const auto with_members = [&](auto command) {
    return [&, command] {
      if (members != std::vector<std::string>{kStandardInput}) return command(context, key, members);
      auto read = read_members_from_stdin(cairn::protocol::kMaxMembersPerRequest);
      if (!read) return context.out.failure(read.error());
      return command(context, key, *read);
    };
  };
  auto* sadd = app.add_subcommand("sadd", "Add members to a set: sadd KEY MEMBER..., or sadd KEY - (one per line of "
                                          "standard input)");
  sadd->add_option("key", key)->required();
  sadd->add_option("members", members)->required();
  run(sadd, with_members(sadd_command));

  auto* srem = app.add_subcommand("srem", "Remove members from a set: srem KEY MEMBER..., or srem KEY - (one per line "
                                          "of standard input)");
  srem->add_option("key", key)->required();
  srem->add_option("members", members)->required();
  run(srem, with_members(srem_command));

  auto* smembers = app.add_subcommand("smembers", "List a set's members, streamed in byte order");
  smembers->add_option("key", key)->required();
  run(smembers, [&] { return smembers_command(context, key); });

  auto* sismember = app.add_subcommand("sismember", "Is MEMBER in the set? sismember KEY MEMBER");
  sismember->add_option("key", key)->required();
  sismember->add_option("member", member)->required();
  run(sismember, [&] { return sismember_command(context, key, member); });

  auto* incr = app.add_subcommand("incr", "Add N (default 1) to a counter; prints the value read right after");
  incr->add_option("key", key)->required();
  incr->add_option("n", amount)->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
  run(incr, [&] { return incr_command(context, key, amount); });

  auto* decr = app.add_subcommand("decr", "Subtract N (default 1) from a counter; prints the value read right after");
  decr->add_option("key", key)->required();
  decr->add_option("n", amount)->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
  run(decr, [&] { return incr_command(context, key, -amount); });

  auto* counter = app.add_subcommand("counter", "Read a counter");
  counter->add_option("key", key)->required();
  run(counter, [&] { return counter_command(context, key); });

  auto* keys = app.add_subcommand("keys", "List keys (optionally starting with PREFIX), streamed");
  keys->add_option("prefix", prefix);
  run(keys, [&] { return scan_command(context, prefix); });

  auto* scan = app.add_subcommand("scan", "List keys starting with PREFIX, streamed");
  scan->add_option("prefix", prefix)->required();
  run(scan, [&] { return scan_command(context, prefix); });

  auto* inspect = app.add_subcommand(
      "inspect", "Type, value, version vector, dots, HLC, writing replica and concurrent values of a key");
  inspect->add_option("key", key)->required();
  run(inspect, [&] { return inspect_command(context, key); });

  auto* peers = app.add_subcommand("peers", "Cluster members: id, address, state, incarnation, last heard, ring, lag");
  run(peers, [&] { return peers_command(context); });

  auto* ring = app.add_subcommand("ring", "The hash ring: every position and its peer, gossip neighbours marked");
  run(ring, [&] { return ring_command(context); });

  auto* stats = app.add_subcommand("stats", "The peer's metrics (what /metrics serves)");
  run(stats, [&] { return stats_command(context); });

  auto* watch = app.add_subcommand(
      "watch", "Print changes to keys starting with PREFIX as they happen, each with its position; --since "
               "POSITION first prints every change after it (exit 9 when the peer no longer keeps them)");
  watch->add_option("prefix", prefix);
  std::string since;
  auto* since_option =
      watch->add_option("--since", since, "Resume after this position (from an earlier event; '' = oldest kept)");
  run(watch, [&, since_option] {
    return watch_command(context, prefix, since_option->count() > 0 ? std::optional(since) : std::nullopt);
  });

  std::uint64_t replica = 0;
  auto* retire = app.add_subcommand("retire", "Retire a dead or stopped peer: retire REPLICA-ID (hex, as `peers` "
                                              "prints it)");
  retire
      ->add_option_function<std::string>(
          "replica-id",
          [&](const std::string& text) {
            const auto id = parse_replica_id(text);
            if (!id) throw CLI::ValidationError("replica-id", "'" + text + "' is not a replica id (up to 16 hex digits)");
            replica = *id;
          },
          "The replica id of the peer to retire, as `cairn peers` shows it (0x optional)")
      ->required();
  run(retire, [&] { return retire_command(context, replica); });

  // The data directory is the root's --data-dir, given before or after `dump`.
  auto* dump = app.add_subcommand("dump", "Print every key of the --data-dir directory, offline and read-only "
                                          "(safe on a running peer's directory): dump --data-dir DIR");
  run(dump, [&] {
    if (data_dir.empty()) throw CLI::ValidationError("dump", "needs --data-dir DIR (the data directory to read)");
    return dump_command(context, data_dir);
  });

  std::string out_dir, backup_dir;
  auto* backup = app.add_subcommand("backup", "A consistent, compacted snapshot of the peer's store, with a manifest "
                                              "and checksum, into the new directory OUT (docs/operations.md); with "
                                              "--data-dir DIR, of that directory instead (read-only)");
  backup->add_option("out", out_dir, "The backup directory to create (absent or empty)")->required();
  // --data-dir alone names the directory to copy; with a peer named (--connect or CAIRN_CONNECT) it
  // only says where the token is, as for every other command.
  const auto offline_dir = [&] {
    const bool peer_named = connect_option->count() > 0 || std::getenv("CAIRN_CONNECT") != nullptr;
    return peer_named ? std::string() : data_dir;
  };
  run(backup, [&] { return backup_command(context, offline_dir(), out_dir); });

  auto* verify_backup = app.add_subcommand("verify-backup", "Check a backup against its manifest's size and checksum");
  verify_backup->add_option("backup", backup_dir)->required();
  run(verify_backup, [&] { return verify_backup_command(context, backup_dir); });

  bool retire_original = false;
  auto* restore = app.add_subcommand("restore", "Restore BACKUP into the new data directory NEW under a new replica "
                                                "id, keeping every record: restore BACKUP NEW");
  restore->add_option("backup", backup_dir)->required();
  restore->add_option("new", out_dir, "The data directory to create (absent or empty)")->required();
  restore->add_flag("--retire-original", retire_original,
                    "Then propose retiring the backup's replica id at the --connect peer (the original is lost "
                    "for good)");
  run(restore, [&] { return restore_command(context, backup_dir, out_dir, retire_original); });

  bool with_metadata = false;
  auto* export_keys = app.add_subcommand("export", "Every key (starting with PREFIX) with its type and value as JSON "
                                                   "lines on stdout; with --data-dir DIR, read from that directory");
  export_keys->add_option("prefix", prefix);
  export_keys->add_flag("--with-metadata", with_metadata,
                        "Also each register's concurrent values and each key's version vector");
  run(export_keys, [&] { return export_command(context, offline_dir(), prefix, with_metadata); });

  std::string import_file;
  auto* import_keys = app.add_subcommand("import", "Write the keys of an export (FILE, or - for stdin) as local "
                                                   "writes; re-running it changes nothing");
  import_keys->add_option("file", import_file)->required();
  run(import_keys, [&] { return import_command(context, import_file); });

  // Prints (or writes) a completion script generated from this very command tree (completion.h).
  std::string shell, output_file;
  auto* completion = app.add_subcommand("completion", "Print the shell completion script: completion bash|zsh "
                                                      "(docs/cli.md, Shell completion)");
  completion->add_option("shell", shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  completion->add_option("-o,--output-file", output_file, "Write the script to this file instead of standard output");
  run(completion, [&] { return completion_command(app, shell, output_file); });

  app.parse_complete_callback([&] {
    context.out = Output(json);
    if (dump->parsed() || verify_backup->parsed()) return;  // Reads a directory: no peer, no token.
    if (completion->parsed()) return;                        // Prints a script: no peer, no token.
    if ((backup->parsed() || export_keys->parsed()) && !offline_dir().empty()) return;
    if (restore->parsed() && !retire_original) return;
    auto found = find_token(token, token_file, data_dir);
    if (!found) throw CLI::ValidationError("client token", found.error().message());
    context.client.token = std::move(*found);
    if (!parse_address(address, context.client)) {
      throw CLI::ValidationError("--connect", "'" + address + "' is not HOST:PORT");
    }
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}
