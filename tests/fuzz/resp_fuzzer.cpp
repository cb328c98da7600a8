// Fuzzes the RESP2 front door: the request reader, then a RespSession over a real store.
//
// The reader (small limits, so every limit is reached): the input read whole, split in two where its
// second byte says, and a byte at a time must give the same commands and the same verdict; no argument
// or request may exceed the limits. The session (the first byte picks the chunk size, whether a client
// token is required; the batch writer is the store's, StoreBatchWriter over Store::write): it is stepped until idle after each chunk; its output must be a sequence of
// well-formed RESP2 replies, and after a protocol error it must be closing with that error as its last
// reply. A crash, a hang or a violation aborts.
//
// The store lives in a fresh temporary directory for the whole run (LMDB, not fsynced); it grows with
// what the inputs write (FLUSHDB empties it).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cairn/store.h"
#include "src/resp/reply.h"
#include "src/resp/request_reader.h"
#include "src/resp/session.h"
#include "src/resp/store_batch_writer.h"

namespace {

using namespace cairn;

[[noreturn]] void violation(const char* what) {
  std::fprintf(stderr, "resp_fuzzer: %s\n", what);
  std::abort();
}

Store& shared_store() {
  static std::unique_ptr<Store> store = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "cairn-resp-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) violation("cannot create a temporary directory");
    StoreOptions options;
    options.durability = Durability::kNoSync;
    auto opened = Store::open(pattern, options);
    if (!opened) violation("cannot open the store");
    return std::move(*opened);
  }();
  return *store;
}

resp::RequestLimits small_limits() {
  resp::RequestLimits limits;
  limits.max_inline_bytes = 256;
  limits.max_multibulk_length = 64;
  limits.max_bulk_bytes = 1024;
  limits.max_unauthenticated_multibulk_length = 4;
  limits.max_unauthenticated_bulk_bytes = 16;
  limits.max_request_bytes = 4096;
  return limits;
}

struct Verdict {
  std::vector<std::vector<std::string>> commands;
  std::string error;
  bool operator==(const Verdict&) const = default;
};

Verdict read(const std::vector<std::string_view>& chunks, bool authenticated) {
  const resp::RequestLimits limits = small_limits();
  resp::RequestReader reader(limits);
  reader.set_authenticated(authenticated);
  Verdict verdict;
  std::vector<std::string> args;
  for (std::string_view chunk : chunks) {
    reader.append(chunk);
    for (;;) {
      const auto outcome = reader.next(args);
      if (outcome == resp::RequestReader::Outcome::kNeedMore) break;
      if (outcome == resp::RequestReader::Outcome::kError) {
        if (reader.error().rfind("Protocol error: ", 0) != 0) violation("an error without Redis's prefix");
        verdict.error = reader.error();
        return verdict;
      }
      if (args.empty()) violation("an empty command was returned");
      // A multibulk request holds at most max_multibulk_length arguments, an inline line at most one
      // per two bytes; no argument is longer than a bulk may be.
      const std::size_t most_arguments =
          std::max<std::size_t>(static_cast<std::size_t>(limits.max_multibulk_length), limits.max_inline_bytes / 2 + 1);
      if (args.size() > most_arguments) violation("a request with more arguments than the limits allow");
      for (const std::string& arg : args) {
        if (arg.size() > static_cast<std::size_t>(limits.max_bulk_bytes)) violation("an argument over the bulk limit");
      }
      verdict.commands.push_back(args);
    }
  }
  return verdict;
}

void check_reader(std::string_view input) {
  const bool authenticated = !input.empty() && (input[0] & 1);
  const Verdict whole = read({input}, authenticated);
  const std::size_t cut = input.size() < 2 ? 0 : static_cast<unsigned char>(input[1]) % input.size();
  if (read({input.substr(0, cut), input.substr(cut)}, authenticated) != whole) violation("a split changed the verdict");
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  if (read(bytes, authenticated) != whole) violation("byte-by-byte reading changed the verdict");
}

// The end of one well-formed RESP2 reply starting at `at`, or nullopt.
std::optional<std::size_t> reply_end(std::string_view out, std::size_t at, int depth = 0) {
  if (at >= out.size() || depth > 8) return std::nullopt;
  const std::size_t line_end = out.find("\r\n", at);
  if (line_end == std::string_view::npos) return std::nullopt;
  const std::string_view line = out.substr(at + 1, line_end - at - 1);
  const char type = out[at];
  if (type == '+' || type == '-') {
    if (line.find_first_of("\r\n") != std::string_view::npos) return std::nullopt;
    return line_end + 2;
  }
  long long number = 0;
  try {
    std::size_t used = 0;
    number = std::stoll(std::string(line), &used);
    if (used != line.size()) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  if (type == ':') return line_end + 2;
  if (type == '$') {
    if (number == -1) return line_end + 2;
    if (number < 0 || line_end + 2 + static_cast<std::size_t>(number) + 2 > out.size()) return std::nullopt;
    const std::size_t end = line_end + 2 + static_cast<std::size_t>(number);
    if (out.substr(end, 2) != "\r\n") return std::nullopt;
    return end + 2;
  }
  if (type == '*') {
    if (number == -1) return line_end + 2;
    if (number < 0) return std::nullopt;
    std::size_t next = line_end + 2;
    for (long long i = 0; i < number; ++i) {
      const auto end = reply_end(out, next, depth + 1);
      if (!end) return std::nullopt;
      next = *end;
    }
    return next;
  }
  return std::nullopt;
}

// Steps the session until it has nothing to do and no write of it is in flight: writes are answered
// after their commit, which completes on the store's writer thread, so wait for those too.
void drain(resp::RespSession& session) {
  for (long steps = 0; session.has_work() || session.writes_in_flight() > 0; ++steps) {
    if (steps > 10'000'000) violation("the session never runs out of work");
    if (!session.has_work()) {
      std::this_thread::yield();
      continue;
    }
    session.step();
  }
}

void check_session(std::string_view input) {
  const unsigned char control = input.empty() ? 0 : static_cast<unsigned char>(input[0]);
  resp::RespOptions options;
  options.limits = small_limits();
  options.max_in_flight_commands = 8;
  options.max_collected_reply_bytes = 4096;
  options.max_transaction_commands = 16;
  if (control & 2) options.client_token = "tok";
  Store& store = shared_store();
  resp::StoreBatchWriter batch(store);
  resp::RespShared shared(control);
  resp::RespSession session(resp::Services{store, batch}, options, shared);
  const std::size_t chunk = 1 + (control >> 3) % 32;
  std::string output;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    session.receive(input.substr(at, chunk));
    drain(session);
    output += session.take_output();
  }
  session.end_of_input();
  drain(session);
  output += session.take_output();
  if (!session.closing()) violation("the session does not close after its input ended");
  std::vector<std::string_view> replies;
  for (std::size_t at = 0; at < output.size();) {
    const auto end = reply_end(output, at);
    if (!end) violation("a reply is malformed");
    replies.push_back(std::string_view(output).substr(at, *end - at));
    at = *end;
  }
  for (std::size_t i = 0; i + 1 < replies.size(); ++i) {
    if (replies[i].rfind("-ERR Protocol error: ", 0) == 0) violation("a reply followed a protocol error");
  }
  if (control & 2) return;  // With a token the session's limits change at AUTH; the reader alone cannot tell.
  const Verdict verdict = read({input}, true);
  bool quit = false;
  for (const auto& command : verdict.commands) quit = quit || resp::equals_ignoring_case(command[0], "quit");
  if (!verdict.error.empty() && !quit &&
      (replies.empty() || replies.back() != resp::reply::error("ERR " + verdict.error))) {
    violation("the session did not end with the reader's protocol error");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_reader(input);
  check_session(input);
  return 0;
}
