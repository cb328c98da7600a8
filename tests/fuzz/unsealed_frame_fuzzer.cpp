// Fuzzes a peer's frames BEFORE authentication: what anyone on the network can send. The input goes,
// as one whole frame, to FrameSealer::open and to a sealed gossip::Peer holding the test key. An input
// starting with 'T' is instead a tamper recipe: the rest is sealed with the test key (a genuine frame),
// then the bit its first two bytes pick is flipped.
//
// Violations (abort): anything opens that was not sealed with the key as is (a forgery: the fuzzer
// holds no valid tag, and a tampered frame must fail); the peer drops a frame for another reason than
// the opener's; the peer answers or changes membership for a frame that did not open; a crash or hang.
#include <cstdint>
#include <string>
#include <string_view>

#include "gossip/wire.h"
#include "tests/fuzz/fuzz_peer.h"

namespace {

using namespace cairn;
using namespace cairn::gossip;

constexpr const char* kName = "unsealed_frame_fuzzer";

void check_refused(std::string_view frame) {
  static store::Replica& store = fuzz::shared_store(kName);
  FrameSealer opener({fuzz::test_key()});
  const OpenResult opened = opener.open(frame);
  if (opened.ok) fuzz::violation(kName, "a frame not sealed with the key opened (forgery)");
  if (opened.detail.empty()) fuzz::violation(kName, "a frame was refused without saying why");

  auto peer = fuzz::make_peer(store);
  if (!peer->on_frame(frame, 1).empty()) fuzz::violation(kName, "the peer answered a frame that did not open");
  if (fuzz::dropped(*peer, opened.error) != 1 || peer->stats().frames_dropped_total() != 1) {
    fuzz::violation(kName, "the peer dropped a frame for another reason than the opener's");
  }
  if (!peer->membership().members().empty()) fuzz::violation(kName, "a refused frame changed membership");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (size >= 3 && input[0] == 'T') {
    FrameSealer sealer({fuzz::test_key()});
    std::string frame = sealer.seal(FrameType::kPeerMessage, CounterStream::kDatagram, input.substr(3));
    const std::size_t bit = (static_cast<std::size_t>(data[1]) << 8 | data[2]) % (frame.size() * 8);
    frame[bit / 8] = static_cast<char>(frame[bit / 8] ^ (1 << (bit % 8)));
    check_refused(frame);
    return 0;
  }
  check_refused(input);
  return 0;
}
