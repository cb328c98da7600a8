#include "tools/cairn/value_input.h"

#include <cerrno>
#include <cstring>
#include <memory>

#include "cairn/options.h"

namespace cairn::cli {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

std::string describe(const std::string& path) { return path == kStandardInput ? "standard input" : "'" + path + "'"; }

}  // namespace

Result<std::string> read_value(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> opened;
  std::FILE* file = stdin;
  if (path != kStandardInput) {
    opened.reset(std::fopen(path.c_str(), "rb"));
    if (!opened) return fail(ErrorCode::kInvalidArgument, "cannot open " + describe(path) + ": " + std::strerror(errno));
    file = opened.get();
  }
  std::string value;
  char buffer[64 * 1024];
  for (;;) {
    const std::size_t read = std::fread(buffer, 1, sizeof buffer, file);
    value.append(buffer, read);
    if (value.size() > kMaxValueBytes) {
      return fail(ErrorCode::kLimitExceeded, "the value in " + describe(path) + " is over the limit of " +
                                                 std::to_string(kMaxValueBytes) + " bytes; nothing was sent");
    }
    if (read < sizeof buffer) break;
  }
  if (std::ferror(file)) return fail(ErrorCode::kIo, "cannot read " + describe(path) + ": " + std::strerror(errno));
  return value;
}

Result<std::vector<std::string>> read_members_from_stdin(std::size_t max_members) {
  std::vector<std::string> members;
  std::string line;
  for (int c = std::getc(stdin); c != EOF; c = std::getc(stdin)) {
    if (c != '\n') {
      line.push_back(static_cast<char>(c));
      if (line.size() > kMaxMemberBytes) {
        return fail(ErrorCode::kLimitExceeded, "line " + std::to_string(members.size() + 1) +
                                                   " of standard input is over the member limit of " +
                                                   std::to_string(kMaxMemberBytes) + " bytes; nothing was sent");
      }
      continue;
    }
    members.push_back(std::move(line));
    line.clear();
    if (members.size() > max_members) break;
  }
  if (!line.empty()) members.push_back(std::move(line));
  if (members.size() > max_members) {
    return fail(ErrorCode::kLimitExceeded, "more than " + std::to_string(max_members) +
                                               " members on standard input (the most one request carries); "
                                               "nothing was sent");
  }
  if (std::ferror(stdin)) return fail(ErrorCode::kIo, std::string("cannot read standard input: ") + std::strerror(errno));
  return members;
}

}  // namespace cairn::cli
