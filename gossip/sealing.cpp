// Sealing over libsodium: XChaCha20-Poly1305 (IETF), crypto_kdf, BLAKE2b for key ids. See sealing.h.
#include "gossip/sealing.h"

#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace cairn::gossip {
namespace {

static_assert(crypto_kdf_KEYBYTES == kClusterKeyBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == std::tuple_size_v<decltype(FrameHeader::nonce)>);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kSealOverheadBytes);
static_assert(sizeof kFrameKeyContext - 1 == crypto_kdf_CONTEXTBYTES);

constexpr std::uint64_t kFrameKeySubkeyId = 1;
constexpr std::size_t kEpochBytes = 15;
constexpr std::size_t kStreamOffset = kEpochBytes;  // In the nonce.
constexpr std::size_t kCounterOffset = 16;

void ensure_sodium() {
  // Idempotent and thread-safe; fails only when the OS has no randomness source at all, where no key
  // or nonce could be made safely.
  if (sodium_init() < 0) std::abort();
}

std::array<std::uint8_t, 32> derive_frame_key(const ClusterKey& cluster_key) {
  std::array<std::uint8_t, 32> key{};
  crypto_kdf_derive_from_key(key.data(), key.size(), kFrameKeySubkeyId, kFrameKeyContext, cluster_key.data());
  return key;
}

std::uint32_t id_of_frame_key(const std::array<std::uint8_t, 32>& frame_key) {
  std::array<std::uint8_t, 16> hash{};
  crypto_generichash(hash.data(), hash.size(), frame_key.data(), frame_key.size(), nullptr, 0);
  std::uint32_t id = 0;
  for (int i = 0; i < 4; ++i) id = id << 8 | hash[static_cast<std::size_t>(i)];
  return id == 0 ? 1 : id;
}

// A key id as an operator compares it between peers: 8 hex digits.
std::string key_id_text(std::uint32_t id) {
  char text[16];
  std::snprintf(text, sizeof text, "%08x", id);
  return text;
}

OpenResult refuse(FrameError error, std::string detail) {
  OpenResult result;
  result.error = error;
  result.detail = std::move(detail);
  return result;
}

}  // namespace

Result<ClusterKey> parse_cluster_key(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  ClusterKey key{};
  std::size_t written = 0;
  if (text.size() != 2 * kClusterKeyBytes ||
      sodium_hex2bin(key.data(), key.size(), text.data(), text.size(), nullptr, &written, nullptr) != 0 ||
      written != kClusterKeyBytes) {
    return fail(ErrorCode::kInvalidArgument,
                "a cluster key is 64 hex digits (32 bytes), e.g. as cairnd writes to cluster.key");
  }
  return key;
}

std::string cluster_key_to_hex(const ClusterKey& key) {
  std::string hex(2 * kClusterKeyBytes + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
  hex.pop_back();
  return hex;
}

ClusterKey random_cluster_key() {
  ensure_sodium();
  ClusterKey key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

std::uint32_t key_id_of(const ClusterKey& key) {
  ensure_sodium();
  auto frame_key = derive_frame_key(key);
  const std::uint32_t id = id_of_frame_key(frame_key);
  sodium_memzero(frame_key.data(), frame_key.size());
  return id;
}

FrameSealer::FrameSealer(std::vector<ClusterKey> keys) {
  assert(!keys.empty() && "a sealer needs at least one cluster key");
  ensure_sodium();
  for (const ClusterKey& cluster_key : keys) {
    FrameKey key{derive_frame_key(cluster_key), 0};
    key.id = id_of_frame_key(key.key);
    keys_.push_back(key);
  }
  randombytes_buf(epoch_.data(), epoch_.size());
  for (auto& counter : next_counter_) counter.store(1);
}

SealerStats FrameSealer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::size_t FrameSealer::remembered_senders() const {
  std::lock_guard lock(mutex_);
  return windows_.size();
}

void FrameSealer::count(std::uint64_t SealerStats::*counter) {
  std::lock_guard lock(mutex_);
  ++(stats_.*counter);
}

std::string FrameSealer::seal(FrameType type, CounterStream stream, std::string_view payload) {
  if (keys_.empty() || payload.size() + kSealOverheadBytes > kMaxFramePayloadBytes) {
    count(&SealerStats::unsendable);
    return {};
  }
  const FrameKey& key = keys_.front();
  FrameHeader header;
  header.type = type;
  header.key_id = key.id;
  std::memcpy(header.nonce.data(), epoch_.data(), kEpochBytes);
  header.nonce[kStreamOffset] = static_cast<std::uint8_t>(stream);
  const std::uint64_t this_counter = next_counter_[static_cast<std::size_t>(stream)].fetch_add(1);
  for (std::size_t i = 0; i < 8; ++i) {
    header.nonce[kCounterOffset + i] = static_cast<std::uint8_t>(this_counter >> (56 - 8 * i));
  }
  header.payload_length = static_cast<std::uint32_t>(payload.size() + kSealOverheadBytes);
  std::string frame = encode_frame_header(header);
  frame.resize(kFrameHeaderBytes + header.payload_length);
  auto* out = reinterpret_cast<unsigned char*>(frame.data() + kFrameHeaderBytes);
  unsigned long long sealed_bytes = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out, &sealed_bytes, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
      reinterpret_cast<const unsigned char*>(frame.data()), kFrameHeaderBytes, nullptr, header.nonce.data(),
      key.key.data());
  assert(sealed_bytes == header.payload_length);
  count(&SealerStats::sealed);
  return frame;
}

OpenResult FrameSealer::open(std::string_view frame, FrameType expected_type, std::size_t max_payload_bytes) {
  const HeaderResult parsed = parse_frame_header(frame, max_payload_bytes);
  if (!parsed.ok) return refuse(parsed.error, "refused header");
  const FrameHeader& header = parsed.header;
  if (header.type != expected_type) return refuse(FrameError::kUnknownType, "frame of an unexpected type");
  const std::size_t expected_bytes = kFrameHeaderBytes + header.payload_length;
  if (frame.size() < expected_bytes) return refuse(FrameError::kTruncated, "frame shorter than its header says");
  if (frame.size() > expected_bytes) return refuse(FrameError::kUndecodable, "bytes after the payload");
  if (header.flags != 0) return refuse(FrameError::kUndecodable, "reserved flags set");
  if (header.key_id == 0) return refuse(FrameError::kUnsealed, "unsealed frame");
  const auto key = std::find_if(keys_.begin(), keys_.end(), [&](const FrameKey& k) { return k.id == header.key_id; });
  if (key == keys_.end()) {
    return refuse(FrameError::kUnknownKey, "sealed under key id " + key_id_text(header.key_id) +
                                               ", not one of ours (this peer seals under " +
                                               key_id_text(keys_.front().id) + ")");
  }
  if (header.payload_length < kSealOverheadBytes) {
    return refuse(FrameError::kUnauthenticated, "sealed payload shorter than its tag");
  }
  OpenResult result;
  result.payload.resize(header.payload_length - kSealOverheadBytes);
  unsigned long long opened_bytes = 0;
  const int failed = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<unsigned char*>(result.payload.data()), &opened_bytes, nullptr,
      reinterpret_cast<const unsigned char*>(frame.data() + kFrameHeaderBytes), header.payload_length,
      reinterpret_cast<const unsigned char*>(frame.data()), kFrameHeaderBytes, header.nonce.data(), key->key.data());
  if (failed != 0) return refuse(FrameError::kUnauthenticated, "authentication failed");
  WindowKey window_key{};
  std::memcpy(window_key.data(), header.nonce.data(), window_key.size());
  std::uint64_t counter = 0;
  for (std::size_t i = 0; i < 8; ++i) counter = counter << 8 | header.nonce[kCounterOffset + i];
  {
    std::lock_guard lock(mutex_);
    if (!accept(window_for(window_key), counter)) return refuse(FrameError::kReplayed, "replayed frame");
    ++stats_.opened;
  }
  result.ok = true;
  return result;
}

bool FrameSealer::accept(Window& window, std::uint64_t counter) {
  if (counter == 0) return false;  // Sealers start at 1.
  if (counter > window.highest) {
    const std::uint64_t shift = counter - window.highest;
    if (shift >= kReplayWindow) {
      window.seen.fill(0);
    } else {
      // Shift the bitmap left by `shift` bits: bit i (counter highest - i) becomes bit i + shift.
      const std::size_t words = shift / 64, bits = shift % 64;
      for (std::size_t i = window.seen.size(); i-- > 0;) {
        std::uint64_t value = i >= words ? window.seen[i - words] << bits : 0;
        if (bits != 0 && i >= words + 1) value |= window.seen[i - words - 1] >> (64 - bits);
        window.seen[i] = value;
      }
    }
    window.highest = counter;
    window.seen[0] |= 1;
    return true;
  }
  const std::uint64_t age = window.highest - counter;
  if (age >= kReplayWindow) return false;
  std::uint64_t& word = window.seen[age / 64];
  const std::uint64_t bit = std::uint64_t{1} << (age % 64);
  if ((word & bit) != 0) return false;
  word |= bit;
  return true;
}

FrameSealer::Window& FrameSealer::window_for(const WindowKey& key) {
  auto found = windows_.find(key);
  if (found == windows_.end()) {
    if (windows_.size() >= kMaxReplaySenders) {
      auto oldest = std::min_element(windows_.begin(), windows_.end(), [](const auto& a, const auto& b) {
        return a.second.last_used < b.second.last_used;
      });
      windows_.erase(oldest);
    }
    found = windows_.emplace(key, Window{}).first;
  }
  found->second.last_used = ++use_clock_;
  return found->second;
}

}  // namespace cairn::gossip
