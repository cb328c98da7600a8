// Fuzzes a peer's frames AFTER authentication: the input is the payload an authentic peer (one holding
// the cluster key) sends. It is sealed with the test key and handed to a sealed gossip::Peer (one for
// the whole run, so membership, dissemination and the store see a long history), and decoded directly.
// A payload that decodes is also sent again as a message of the peer's own cluster, so it reaches
// membership, dissemination and the store's merge, not only the cluster check.
//
// Violations (abort): a frame sealed with the key fails to open or counts as replayed; the peer drops a
// frame as undecodable exactly when decode_peer_payload refuses it; anything crashes or hangs.
#include <cstdint>
#include <string>
#include <string_view>

#include "gossip/wire.h"
#include "tests/fuzz/fuzz_peer.h"

namespace {

using namespace cairn;
using namespace cairn::gossip;

constexpr const char* kName = "sealed_frame_fuzzer";

struct Harness {
  store::Replica& store = fuzz::shared_store(kName);
  std::unique_ptr<Peer> peer = fuzz::make_peer(store);
  FrameSealer sender{{fuzz::test_key()}};
  std::uint64_t now_ms = 1;
};

// Seals `payload`, delivers it, and checks the peer's verdict against `expect_decodes`.
void deliver(Harness& h, std::string_view payload, CounterStream stream, bool expect_decodes) {
  const std::string frame = h.sender.seal(FrameType::kPeerMessage, stream, payload);
  if (frame.empty()) return;  // Too large to seal: never sent.
  const PeerStats before = h.peer->stats();
  h.peer->on_frame(frame, h.now_ms);
  h.now_ms += 7;
  const PeerStats& after = h.peer->stats();
  for (FrameError sealing : {FrameError::kUnsealed, FrameError::kUnknownKey, FrameError::kUnauthenticated,
                             FrameError::kReplayed}) {
    if (after.frames_dropped[static_cast<std::size_t>(sealing)] !=
        before.frames_dropped[static_cast<std::size_t>(sealing)]) {
      fuzz::violation(kName, "an authentic frame was refused by the sealing layer");
    }
  }
  const auto undecodable = static_cast<std::size_t>(FrameError::kUndecodable);
  const bool refused = after.frames_dropped[undecodable] != before.frames_dropped[undecodable];
  if (refused == expect_decodes) fuzz::violation(kName, "the peer and decode_peer_payload disagree");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const DecodeResult decoded = decode_peer_payload(payload);
  if (!decoded.ok && decoded.detail.empty()) fuzz::violation(kName, "a payload was refused without saying why");
  const CounterStream stream = size % 2 == 0 ? CounterStream::kDatagram : CounterStream::kStream;
  deliver(harness, payload, stream, decoded.ok);
  if (decoded.ok) {
    Envelope ours = decoded.envelope;
    ours.cluster_id = cluster_id_of(fuzz::kClusterName);
    deliver(harness, encode_peer_payload(ours), stream, true);
  }
  harness.peer->tick(harness.now_ms);
  return 0;
}
