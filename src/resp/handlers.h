// The handler of every planned command (command_table.cpp lists them with their names and arities).
// Each plans one command from its arguments (already checked for arity) by reading the store; none
// writes (see command.h). Grouped by file: strings, counters, sets, keyspace, server, cairn.
#pragma once

#include "src/resp/command.h"

namespace cairn::resp::handlers {

// string_commands.cpp
Plan get(CommandContext& ctx);
Plan set(CommandContext& ctx);
Plan setnx(CommandContext& ctx);
Plan getset(CommandContext& ctx);
Plan mget(CommandContext& ctx);
Plan mset(CommandContext& ctx);
Plan strlen(CommandContext& ctx);
Plan append(CommandContext& ctx);
// counter_commands.cpp
Plan incr(CommandContext& ctx);
Plan decr(CommandContext& ctx);
Plan incrby(CommandContext& ctx);
Plan decrby(CommandContext& ctx);
// set_commands.cpp
Plan sadd(CommandContext& ctx);
Plan srem(CommandContext& ctx);
Plan smembers(CommandContext& ctx);
Plan sismember(CommandContext& ctx);
Plan smismember(CommandContext& ctx);
Plan scard(CommandContext& ctx);
Plan sscan(CommandContext& ctx);
// keyspace_commands.cpp
Plan del(CommandContext& ctx);
Plan exists(CommandContext& ctx);
Plan type(CommandContext& ctx);
Plan ttl(CommandContext& ctx);
Plan keys(CommandContext& ctx);
Plan scan(CommandContext& ctx);
Plan dbsize(CommandContext& ctx);
Plan randomkey(CommandContext& ctx);
Plan flushdb(CommandContext& ctx);
Plan expire(CommandContext& ctx);
// server_commands.cpp
Plan ping(CommandContext& ctx);
Plan echo(CommandContext& ctx);
Plan select(CommandContext& ctx);
Plan info(CommandContext& ctx);
Plan command(CommandContext& ctx);
Plan config(CommandContext& ctx);
Plan unwatch(CommandContext& ctx);
// cairn_commands.cpp
Plan cairn_values(CommandContext& ctx);
Plan cairn_inspect(CommandContext& ctx);
Plan cairn_peers(CommandContext& ctx);
Plan cairn_ring(CommandContext& ctx);

}  // namespace cairn::resp::handlers
