// Fuzzes decode_peer_frame with arbitrary bytes, taken as one whole frame (header and payload). The
// input is decoded where libFuzzer hands it over and again from a copy one byte off 8-byte alignment
// (stream buffers hand frames out at any offset); both must agree. A dropped frame must say why, and a
// frame its header already condemns must be dropped for that reason. A frame that decodes must hold a
// valid envelope that survives a round trip: re-encoding it and decoding again gives an equal
// envelope, and encoding that gives the same bytes. Any violation aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gossip/wire.h"

namespace {

using namespace cairn::gossip;

[[noreturn]] void violation(const char* what) {
  std::fprintf(stderr, "wire_fuzzer: %s\n", what);
  std::abort();
}

bool same(const DecodeResult& a, const DecodeResult& b) {
  if (a.ok != b.ok) return false;
  return a.ok ? a.envelope == b.envelope : a.error == b.error && a.detail == b.detail;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const DecodeResult first = decode_peer_frame(frame);

  std::vector<std::uint64_t> storage(size / 8 + 2);
  char* shifted = reinterpret_cast<char*>(storage.data()) + 1;
  if (size > 0) std::memcpy(shifted, data, size);
  if (!same(first, decode_peer_frame(std::string_view(shifted, size)))) {
    violation("the same frame decodes differently at another alignment");
  }

  const HeaderResult header = parse_frame_header(frame);
  if (!first.ok) {
    if (first.detail.empty()) violation("a frame was dropped without saying why");
    if (!header.ok && header.error != first.error)
      violation("a frame was dropped for another reason than its header's");
    return 0;
  }
  if (!header.ok) violation("a frame whose header is refused decoded");
  if (!validate_envelope(first.envelope)) violation("a decoded envelope fails validate_envelope");

  const std::string encoded = encode_peer_frame(first.envelope);
  const DecodeResult second = decode_peer_frame(encoded);
  if (!second.ok) violation("a re-encoded envelope does not decode");
  if (!(second.envelope == first.envelope))
    violation("a re-encoded envelope decodes to a different envelope");
  if (encode_peer_frame(second.envelope) != encoded) violation("encoding is not deterministic");
  return 0;
}
