// Fuzzes every decoder of the codec with arbitrary bytes. The first byte chooses the decoder (for a
// value record also the type its key names) and, by its top bit, whether the input is handed over
// 8-byte aligned or one byte off, as LMDB may hand it out; the rest is the input. Decoders may only
// fail with kCorrupt or kUnsupported, and whatever decodes must survive a round trip: re-encoding it
// and decoding again gives an equal value, and encoding that gives the same bytes. Record keys must
// re-encode to exactly the input, lie under the prefixes of their user key, and (decoder 7, which
// splits the input in two) sort like the keys they name. Any violation aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "src/codec/codec.h"

namespace {

using namespace cairn::codec;

[[noreturn]] void violation(const char* what) {
  std::fprintf(stderr, "codec_fuzzer: %s\n", what);
  std::abort();
}

template <typename T>
bool decoded(const cairn::Result<T>& result) {
  if (result) return true;
  const cairn::ErrorCode code = result.error().code();
  if (code != cairn::ErrorCode::kCorrupt && code != cairn::ErrorCode::kUnsupported) {
    violation("a decoder failed with an error code other than corrupt or unsupported");
  }
  if (result.error().message().empty()) violation("a decoder failed without saying why");
  return false;
}

// Checks that a decoded value survives encode -> decode -> encode unchanged.
template <typename T, typename Encode, typename Decode>
void check_round_trip(const cairn::Result<T>& first, Encode encode, Decode decode) {
  if (!decoded(first)) return;
  const std::string bytes = encode(*first);
  const auto second = decode(bytes);
  if (!second) violation("re-encoded value does not decode");
  if (!(*second == *first)) violation("re-encoded value decodes to a different value");
  if (encode(*second) != bytes) violation("encoding is not deterministic");
}

void check_record(std::string_view input, ValueType type) {
  check_round_trip(
      decode_record(input, type), [](const RecordValue& value) { return encode_record(value); },
      [type](std::string_view bytes) { return decode_record(bytes, type); });
}

void check_record_key(std::string_view input) {
  const auto key = decode_record_key(input);
  if (!decoded(key)) return;
  if (encode_record_key(*key) != input) violation("record key does not re-encode to its bytes");
  if (!input.starts_with(encode_exact_key_prefix(key->key))) violation("record key outside its exact prefix");
  for (std::size_t length = 0; length <= key->key.size(); ++length) {
    if (!input.starts_with(encode_key_prefix(std::string_view(key->key).substr(0, length)))) {
      violation("record key outside the prefix of its user key");
    }
  }
}

int sign(int value) { return (value > 0) - (value < 0); }

void check_key_order(std::string_view input) {
  if (input.empty()) return;
  const std::size_t split = static_cast<unsigned char>(input[0]) % input.size();
  const std::string_view left = input.substr(1, split), right = input.substr(1 + split);
  const auto a = decode_record_key(left), b = decode_record_key(right);
  if (!decoded(a) || !decoded(b)) return;
  const auto order = *a <=> *b;
  const int expected = order < 0 ? -1 : order > 0 ? 1 : 0;
  if (sign(left.compare(right)) != expected) violation("record key bytes sort unlike the keys they name");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::size_t length = size - 1;
  // A copy at a chosen alignment: offset 0 of 8-byte aligned storage, or offset 1.
  const std::size_t offset = (selector & 0x80) != 0 ? 1 : 0;
  std::vector<std::uint64_t> storage(length / 8 + 2);
  char* start = reinterpret_cast<char*>(storage.data()) + offset;
  if (length > 0) std::memcpy(start, data + 1, length);
  const std::string_view input(start, length);

  switch ((selector & 0x7F) % 8) {
    case 0:
      check_record(input, ValueType::kRegister);
      break;
    case 1:
      check_record(input, ValueType::kSetMember);
      break;
    case 2:
      check_record(input, ValueType::kCounter);
      break;
    case 3:
      check_round_trip(
          decode_context(input), [](const auto& context) { return encode_context(context); },
          [](std::string_view bytes) { return decode_context(bytes); });
      break;
    case 4:
      check_round_trip(
          decode_meta(input), [](const StoreMeta& meta) { return encode_meta(meta); },
          [](std::string_view bytes) { return decode_meta(bytes); });
      break;
    case 5:
      check_round_trip(
          decode_delta_group(input), [](const DeltaGroup& group) { return encode_delta_group(group); },
          [](std::string_view bytes) { return decode_delta_group(bytes); });
      break;
    case 6:
      check_record_key(input);
      break;
    default:
      check_key_order(input);
      break;
  }
  return 0;
}
