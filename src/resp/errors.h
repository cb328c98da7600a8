// The error replies of the RESP front door, worded exactly as Redis words them where Redis has the
// same error (docs/resp.md lists every one), and cairn's own where Redis has none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"

namespace cairn::resp::errors {

inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kDecrementOverflow = "ERR decrement would overflow";
inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kNoAuth = "NOAUTH Authentication required.";
inline constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kNoProto = "NOPROTO sorry, this protocol version is not supported";
inline constexpr std::string_view kHelloNoAuth =
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> "
    "<pass> "
    "option can be used to authenticate the client and select the RESP protocol version at the same time";
inline constexpr std::string_view kProtocolNotInteger =
    "ERR Protocol version is not an integer or out of range";
inline constexpr std::string_view kDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr std::string_view kInvalidCursor = "ERR invalid cursor";
inline constexpr std::string_view kExpiredCursor =
    "ERR unknown or expired cursor (each cursor can be continued once; start again from 0)";
inline constexpr std::string_view kStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr std::string_view kNoExpiry =
    "ERR cairn does not support key expiry yet (EX, PX, EXAT, PXAT, KEEPTTL and the EXPIRE family)";
inline constexpr std::string_view kNestedMulti = "ERR MULTI calls can not be nested";
inline constexpr std::string_view kExecWithoutMulti = "ERR EXEC without MULTI";
inline constexpr std::string_view kDiscardWithoutMulti = "ERR DISCARD without MULTI";
inline constexpr std::string_view kExecAbort = "EXECABORT Transaction discarded because of previous errors.";
inline constexpr std::string_view kWatch =
    "ERR WATCH is not supported by cairn: a transaction's writes are one atomic batch, and keys change by "
    "merges "
    "from other peers at any time (see docs/resp.md)";
inline constexpr std::string_view kWatchInMulti = "ERR WATCH inside MULTI is not allowed";
inline constexpr std::string_view kBadClientName =
    "ERR Client names cannot contain spaces, newlines or special characters.";

// "ERR wrong number of arguments for 'get' command" (`name` as the command table spells it: lower case,
// "client|setname" for a subcommand).
std::string wrong_arity(std::string_view name);

// "ERR unknown command 'foo', with args beginning with: 'a' 'b' ", as Redis 7 words it (the name as
// the client sent it, at most 128 bytes; arguments quoted until 128 bytes of them are shown).
std::string unknown_command(const std::vector<std::string>& args);

// "ERR unknown subcommand 'FOO'. Try CLIENT HELP." (`command` upper case).
std::string unknown_subcommand(std::string_view subcommand, std::string_view command);

// The reply to a store error: WRONGTYPE for kWrongType, Redis's overflow text for a refused counter
// change, "ERR <message>" otherwise. `command` is unused today (kept for errors that name it).
std::string from_store(const Error& error, std::string_view command);

}  // namespace cairn::resp::errors
