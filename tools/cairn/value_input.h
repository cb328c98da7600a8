// Values and members the CLI reads from standard input or a file instead of its arguments, so a value
// of any size the store accepts (up to kMaxValueBytes) and any bytes (NUL, non-UTF-8) can be written:
//
//   cairn put KEY - < file           the value is all of standard input, byte for byte
//   cairn put KEY --value-file FILE  the value is all of FILE (FILE "-" is standard input)
//   cairn sadd KEY - < lines         one member per line of standard input (srem likewise)
//
// Nothing is stripped from a value: a trailing newline is part of it.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "cairn/status.h"

namespace cairn::cli {

// The argument that stands for standard input.
inline constexpr const char* kStandardInput = "-";

// All bytes of `path` ("-": standard input). kLimitExceeded, before reading further, once it holds
// more than kMaxValueBytes (the store would refuse the value); kInvalidArgument when the file cannot
// be opened, kIo when reading fails.
Result<std::string> read_value(const std::string& path);

// The lines of standard input as members, each without its "\n" (an empty line is the empty member;
// a last line without "\n" counts too). kLimitExceeded, before reading further, past `max_members`
// lines (one request carries at most protocol::kMaxMembersPerRequest) or at a line over
// kMaxMemberBytes; kIo when reading fails.
Result<std::vector<std::string>> read_members_from_stdin(std::size_t max_members);

}  // namespace cairn::cli
