// Fuzzes the HTTP request reader (src/http/request_reader.h) with arbitrary connection bytes, under
// small limits (so the limit paths are reached) and the default ones. The bytes are read whole, split
// in two at a point the input chooses, and one byte at a time: all three must give the same requests
// and fail or not alike (the status may differ when a request breaks both a limit and the syntax:
// http-parser reports a token to the reader, which counts it, only once the token ends or the bytes
// fed so far do). Every request must respect the limits; a refusal must carry one of the
// documented statuses and stop the reader for good. Any violation aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "src/http/request_reader.h"

namespace {

using namespace cairn::http;

[[noreturn]] void violation(const char* what) {
  std::fprintf(stderr, "http_request_fuzzer: %s\n", what);
  std::abort();
}

// Feeds `bytes` as the listener does; appends a description of each request, and of a refusal.
void read_into(RequestReader& reader, std::string_view bytes, const RequestLimits& limits, std::string& out) {
  for (;;) {
    const std::size_t consumed = reader.feed(bytes);
    if (consumed > bytes.size()) violation("consumed more than it was given");
    bytes.remove_prefix(consumed);
    if (auto request = reader.take_request()) {
      if (request->path.empty()) violation("a request without a path");
      if (request->headers.size() > limits.max_header_count) violation("more headers than the limit");
      std::size_t header_bytes = request->path.size() + request->query.size();
      for (const auto& [name, value] : request->headers) header_bytes += name.size() + value.size();
      if (header_bytes > limits.max_header_bytes) violation("more header bytes than the limit");
      out +=
          request->method + ' ' + request->path + '?' + request->query + (request->keep_alive ? " k" : " c");
      for (const auto& [name, value] : request->headers) out += '|' + name + ':' + value;
      out += '\n';
      continue;
    }
    if (reader.failed()) {
      const int status = reader.error_status();
      if (status != 400 && status != 413 && status != 431 && status != 505)
        violation("an undocumented status");
      if (reader.feed("GET / HTTP/1.1\r\n\r\n") != 0 || reader.take_request())
        violation("read after failing");
      out += "failed\n";
      return;
    }
    if (bytes.empty()) return;
    if (consumed == 0) violation("no progress without a request or a failure");
  }
}

std::string read_whole(std::string_view bytes, const RequestLimits& limits) {
  RequestReader reader(limits);
  std::string out;
  read_into(reader, bytes, limits, out);
  return out;
}

void check(std::string_view bytes, std::size_t split, const RequestLimits& limits) {
  const std::string whole = read_whole(bytes, limits);
  {
    RequestReader reader(limits);
    std::string out;
    read_into(reader, bytes.substr(0, split), limits, out);
    if (!reader.failed()) read_into(reader, bytes.substr(split), limits, out);
    if (out != whole) violation("splitting in two changed the outcome");
  }
  RequestReader reader(limits);
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && !reader.failed(); ++i)
    read_into(reader, bytes.substr(i, 1), limits, out);
  if (out != whole) violation("feeding one byte at a time changed the outcome");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  RequestLimits small;
  small.max_header_bytes = 128;
  small.max_header_count = 4;
  small.max_body_bytes = 16;
  check(bytes, split, small);
  check(bytes, split, RequestLimits{});
  return 0;
}
