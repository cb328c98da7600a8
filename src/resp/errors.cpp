#include "src/resp/errors.h"

namespace cairn::resp::errors {
namespace {

// Redis formats names and arguments with %s, which stops at a NUL byte.
std::string_view up_to_nul(std::string_view text) { return text.substr(0, text.find('\0')); }

}  // namespace

std::string wrong_arity(std::string_view name) {
  return "ERR wrong number of arguments for '" + std::string(name) + "' command";
}

std::string unknown_command(const std::vector<std::string>& args) {
  constexpr std::size_t kShown = 128;
  std::string shown;
  for (std::size_t i = 1; i < args.size() && shown.size() < kShown; ++i) {
    shown += "'" + std::string(up_to_nul(args[i]).substr(0, kShown - shown.size())) + "' ";
  }
  const std::string_view name = args.empty() ? std::string_view() : up_to_nul(args[0]).substr(0, kShown);
  return "ERR unknown command '" + std::string(name) + "', with args beginning with: " + shown;
}

std::string unknown_subcommand(std::string_view subcommand, std::string_view command) {
  return "ERR unknown subcommand '" + std::string(up_to_nul(subcommand).substr(0, 128)) + "'. Try " +
         std::string(command) + " HELP.";
}

std::string from_store(const Error& error, std::string_view /*command*/) {
  switch (error.code()) {
    case ErrorCode::kWrongType:
      return std::string(kWrongType);
    case ErrorCode::kOutOfRange:
      // The store refuses a counter change that would leave int64 (rather than wrapping) with a message
      // that starts as Redis's; a counter whose merged total left int64 reads as this code too.
      if (error.message().rfind("increment or decrement would overflow", 0) == 0) return std::string(kOverflow);
      return "ERR " + error.message();
    default:
      return "ERR " + error.message();
  }
}

}  // namespace cairn::resp::errors
