#include "src/resp/inline_args.h"

namespace cairn::resp {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char escaped(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// Reads a "double-quoted" part starting after its opening quote at `at`; appends it to `arg` and moves
// `at` past the closing quote. False when the quote never closes or is followed by a non-space.
bool read_double_quoted(std::string_view line, std::size_t& at, std::string& arg) {
  while (at < line.size()) {
    const char c = line[at];
    if (c == '\\' && at + 3 < line.size() && line[at + 1] == 'x' && hex_value(line[at + 2]) >= 0 &&
        hex_value(line[at + 3]) >= 0) {
      arg += static_cast<char>(hex_value(line[at + 2]) * 16 + hex_value(line[at + 3]));
      at += 4;
    } else if (c == '\\' && at + 1 < line.size()) {
      arg += escaped(line[at + 1]);
      at += 2;
    } else if (c == '"') {
      ++at;
      return at == line.size() || is_space(line[at]);
    } else {
      arg += c;
      ++at;
    }
  }
  return false;
}

// Likewise for a 'single-quoted' part, where only \' is an escape.
bool read_single_quoted(std::string_view line, std::size_t& at, std::string& arg) {
  while (at < line.size()) {
    const char c = line[at];
    if (c == '\\' && at + 1 < line.size() && line[at + 1] == '\'') {
      arg += '\'';
      at += 2;
    } else if (c == '\'') {
      ++at;
      return at == line.size() || is_space(line[at]);
    } else {
      arg += c;
      ++at;
    }
  }
  return false;
}

bool ends_unquoted(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::optional<std::vector<std::string>> split_inline_args(std::string_view line) {
  line = line.substr(0, line.find('\0'));
  std::vector<std::string> args;
  std::size_t at = 0;
  while (true) {
    while (at < line.size() && is_space(line[at])) ++at;
    if (at == line.size()) return args;
    std::string arg;
    bool done = false;
    while (!done && at < line.size()) {
      const char c = line[at++];
      if (c == '"') {
        if (!read_double_quoted(line, at, arg)) return std::nullopt;
        done = true;
      } else if (c == '\'') {
        if (!read_single_quoted(line, at, arg)) return std::nullopt;
        done = true;
      } else if (ends_unquoted(c)) {
        done = true;
      } else {
        arg += c;
      }
    }
    args.push_back(std::move(arg));
  }
}

}  // namespace cairn::resp
