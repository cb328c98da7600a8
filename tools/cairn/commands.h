// The `cairn` CLI's commands. Each returns the process exit code (exit_codes.h) and prints through
// Output; a connection is opened only by the commands that need one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/client.h"
#include "src/util/hex_id.h"
#include "tools/cairn/output.h"

namespace cairn::cli {

struct Context {
  ClientOptions client;
  Output out{false};
};

// Registers, sets, counters, keys (tools/cairn/data_commands.cpp).
int put_command(Context& context, const std::string& key, const std::string& value);
int get_command(Context& context, const std::string& key);
// The winning value only, byte for byte as stored, nothing added (no escaping, no newline).
int get_raw_command(Context& context, const std::string& key);
int del_command(Context& context, const std::string& key);
int sadd_command(Context& context, const std::string& key, const std::vector<std::string>& members);
int srem_command(Context& context, const std::string& key, const std::vector<std::string>& members);
int smembers_command(Context& context, const std::string& key);
int sismember_command(Context& context, const std::string& key, const std::string& member);
int incr_command(Context& context, const std::string& key, std::int64_t amount);
int counter_command(Context& context, const std::string& key);
int scan_command(Context& context, const std::string& prefix);

// The metadata behind one key (tools/cairn/inspect_command.cpp).
int inspect_command(Context& context, const std::string& key);

// The peer and its cluster (tools/cairn/cluster_commands.cpp).
int peers_command(Context& context);
int ring_command(Context& context);
int stats_command(Context& context);
// `since`: resume after this position (watch_from; "" = from the oldest change the peer keeps).
int watch_command(Context& context, const std::string& prefix, const std::optional<std::string>& since);
// Proposes retiring the dead or stopped peer `replica` (docs/metadata-gc.md).
int retire_command(Context& context, std::uint64_t replica);

// A replica id as `peers` prints it: 1 to 16 hex digits, either case, with or without 0x. Nothing
// when `text` is not one.
std::optional<std::uint64_t> parse_replica_id(std::string_view text);

// Offline, read-only listing of a data directory (tools/cairn/dump_command.cpp).
int dump_command(Context& context, const std::string& data_dir);

// Backups (tools/cairn/backup_commands.cpp, docs/operations.md). backup: from the peer over the client
// protocol, or with `data_dir` set from that directory (read-only; safe beside a running peer).
int backup_command(Context& context, const std::string& data_dir, const std::string& out_dir);
int verify_backup_command(Context& context, const std::string& backup_dir);
// With `retire_original`, then proposes retiring the backup's replica id at the --connect peer.
int restore_command(Context& context, const std::string& backup_dir, const std::string& new_dir, bool retire_original);

// Export and import as JSON lines (tools/cairn/backup_commands.cpp, docs/operations.md). export: from
// the peer, or with `data_dir` set from that directory (read-only). import: FILE or "-" (stdin).
int export_command(Context& context, const std::string& data_dir, const std::string& prefix, bool with_metadata);
int import_command(Context& context, const std::string& file);

// Connects with context.client and runs `call` with the connection. Returns the exit code: of the
// connection failure (the message says where it tried), of the error `call` returned, or kExitOk.
int with_client(Context& context, const std::function<Status(Client&)>& call);

}  // namespace cairn::cli
