#include "src/resp/reply.h"

#include <algorithm>

namespace cairn::resp::reply {
namespace {

void line(std::string& out, char type, std::string_view text) {
  out += type;
  out += text;
  out += "\r\n";
}

std::size_t decimal_digits(std::size_t value) {
  std::size_t digits = 1;
  while (value >= 10) {
    value /= 10;
    ++digits;
  }
  return digits;
}

}  // namespace

void simple(std::string& out, std::string_view text) { line(out, '+', text); }

void error(std::string& out, std::string_view text) {
  const std::size_t start = out.size();
  line(out, '-', text);
  std::replace_if(
      out.begin() + static_cast<std::ptrdiff_t>(start) + 1, out.end() - 2,
      [](char c) { return c == '\r' || c == '\n'; }, ' ');
}

void integer(std::string& out, std::int64_t value) { line(out, ':', std::to_string(value)); }

void bulk(std::string& out, std::string_view bytes) {
  line(out, '$', std::to_string(bytes.size()));
  out += bytes;
  out += "\r\n";
}

void null_bulk(std::string& out) { out += "$-1\r\n"; }

void array_header(std::string& out, std::size_t count) { line(out, '*', std::to_string(count)); }

void null_array(std::string& out) { out += "*-1\r\n"; }

void bulk_array(std::string& out, const std::vector<std::string>& items) {
  array_header(out, items.size());
  for (const std::string& item : items) bulk(out, item);
}

std::string simple(std::string_view text) {
  std::string out;
  simple(out, text);
  return out;
}

std::string error(std::string_view text) {
  std::string out;
  error(out, text);
  return out;
}

std::string integer(std::int64_t value) {
  std::string out;
  integer(out, value);
  return out;
}

std::string bulk(std::string_view bytes) {
  std::string out;
  bulk(out, bytes);
  return out;
}

std::string null_bulk() { return "$-1\r\n"; }

std::size_t bulk_bytes(std::size_t size) { return 1 + decimal_digits(size) + 2 + size + 2; }

}  // namespace cairn::resp::reply
