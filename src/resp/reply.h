// Encodes RESP2 replies (the five types: simple string, error, integer, bulk string, array).
//
// Each function appends one value's bytes to `out`. Errors and simple strings must not contain CR or
// LF: as Redis does, error() replaces them with spaces, so a message built from user input (an unknown
// command's name) can never break the reply stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::resp::reply {

void simple(std::string& out, std::string_view text);
// `text` starts with its error code: "ERR ...", "WRONGTYPE ...", "NOAUTH ...".
void error(std::string& out, std::string_view text);
void integer(std::string& out, std::int64_t value);
void bulk(std::string& out, std::string_view bytes);
void null_bulk(std::string& out);
void array_header(std::string& out, std::size_t count);
void null_array(std::string& out);
// An array of bulk strings.
void bulk_array(std::string& out, const std::vector<std::string>& items);

// The same, returned as a new string (for replies built whole).
std::string simple(std::string_view text);
std::string error(std::string_view text);
std::string integer(std::int64_t value);
std::string bulk(std::string_view bytes);
std::string null_bulk();

// The bytes one bulk string of `size` bytes takes on the wire ("$<size>\r\n<bytes>\r\n").
std::size_t bulk_bytes(std::size_t size);

inline constexpr std::string_view kOk = "+OK\r\n";

}  // namespace cairn::resp::reply
