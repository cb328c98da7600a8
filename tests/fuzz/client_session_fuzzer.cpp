// Fuzzes the client protocol's server side: the request decoder, then a ClientSession over a real store
// fed the input as a byte stream (in chunks whose sizes the input's first byte picks), stepped until it
// has nothing left to do. Every reply the session writes must be a well-formed response frame; every
// request that decodes must survive a round trip (re-encoding it and decoding again gives the same
// bytes). A crash, a hang or a violation aborts.
//
// The store lives in a fresh temporary directory for the whole run (LMDB, not fsynced); it grows with
// what the inputs write, which is fine for the short runs CI and people make.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <string_view>

#include "cairn/store.h"
#include "src/codec/frame.h"
#include "src/protocol/protocol.h"
#include "src/server/client_session.h"

namespace {

using namespace cairn;

[[noreturn]] void violation(const char* what) {
  std::fprintf(stderr, "client_session_fuzzer: %s\n", what);
  std::abort();
}

Store& shared_store() {
  static std::unique_ptr<Store> store = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "cairn-client-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) violation("cannot create a temporary directory");
    StoreOptions options;
    options.durability = Durability::kNoSync;
    auto opened = Store::open(pattern, options);
    if (!opened) violation("cannot open the store");
    return std::move(*opened);
  }();
  return *store;
}

void check_request_round_trip(std::string_view payload) {
  auto request = protocol::decode_request(payload);
  if (!request) {
    if (request.error().message().empty()) violation("a request was refused without saying why");
    return;
  }
  const std::string once = protocol::encode_request_frame(*request);
  auto again = protocol::decode_request(std::string_view(once).substr(codec::kFrameHeaderBytes));
  if (!again) violation("a re-encoded request does not decode");
  if (protocol::encode_request_frame(*again) != once) violation("a request does not survive a round trip");
}

void check_replies(std::string output) {
  std::string_view rest = output;
  while (!rest.empty()) {
    const auto header = codec::parse_frame_header(rest, std::size_t{1} << 30);
    if (!header.ok || header.header.type != codec::FrameType::kClientResponse) violation("a reply frame is malformed");
    const std::size_t bytes = codec::kFrameHeaderBytes + header.header.payload_length;
    if (rest.size() < bytes) violation("a reply frame is cut short");
    if (!protocol::decode_response(rest.substr(codec::kFrameHeaderBytes, header.header.payload_length)))
      violation("a reply does not decode");
    rest.remove_prefix(bytes);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.size() > codec::kFrameHeaderBytes) check_request_round_trip(input.substr(codec::kFrameHeaderBytes));

  server::ClientListenerOptions options;
  options.max_frame_payload_bytes = 64 * 1024;
  options.max_in_flight_requests = 8;
  options.stream_batch_items = 16;
  server::SessionCounters counters;
  // A retire callback that succeeds for even ids and refuses odd ones, so both replies are fuzzed.
  const auto retire = [](std::uint64_t replica) -> Status {
    if (replica % 2 == 0) return ok();
    return fail(ErrorCode::kInvalidArgument, "member is reachable");
  };
  server::ClientSession session(server::Services{shared_store(), {}, {}, retire}, options, counters);
  const std::size_t chunk = input.empty() ? 1 : 1 + static_cast<unsigned char>(input[0]) % 64;
  std::string output;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    session.receive(input.substr(at, chunk));
    // Writes are answered after their commit, on the store's writer thread: wait for them too.
    for (int steps = 0; session.has_work() || session.writes_in_flight() > 0; ++steps) {
      if (steps > 10'000'000) violation("the session never runs out of work");
      if (!session.has_work()) {
        std::this_thread::yield();
        continue;
      }
      session.step();
      session.receive({});
    }
    output += session.take_output();
  }
  session.shutdown();
  check_replies(std::move(output));
  return 0;
}
