// Sealing: peer frames authenticated and encrypted under the cluster key (sans-I/O).
//
// A sealed frame keeps the 40-byte clear header of gossip/wire.h; its payload is the Cap'n Proto
// envelope encrypted with XChaCha20-Poly1305 (libsodium's crypto_aead_xchacha20poly1305_ietf), the
// whole header (with the sealed payload's length) as associated data, so neither the header nor the
// payload can be changed without the frame failing authentication.
//
// Keys. The cluster key (32 random bytes, shared by every peer of a cluster) is never used directly:
// the frame key is crypto_kdf_derive_from_key(subkey 1, context "cairnpr1", cluster key). The header's
// key id is the first 4 bytes (big-endian) of BLAKE2b(frame key), never 0 (0 means unsealed), so a
// receiver picks the key to try without trial decryption. A sealer holds a list of cluster keys: it
// seals with the first and opens with any, so a cluster rotates keys without downtime (docs/security.md).
//
// Nonces. The 24-byte nonce is: 15 bytes of epoch, drawn from the OS's CSPRNG when the sealer is made
// (once per boot), 1 byte of counter stream (one per channel: datagrams, streams), then an 8-byte
// big-endian counter that starts at 1 and only grows. A nonce repeats only if two sealers under one key
// draw the same 120-bit epoch (probability below 2^-80 for 2^20 boots of a cluster) or a counter wraps
// 2^64 (never). The epoch is deliberately not taken from a seeded generator: a simulator or a restart
// replaying a seed would replay nonces.
//
// Replays. The opener remembers, per (epoch, counter stream) it has authenticated, the highest counter
// and which of the kReplayWindow counters below it it has seen (the IPsec/WireGuard sliding window):
// a counter seen before, or older than the window, is a replay. Streams deliver in order, datagrams
// may reorder by up to the window. At most kMaxReplaySenders (epoch, stream) pairs are remembered; the
// least recently heard is forgotten first (its old frames could then be replayed once more: a frame
// replays only what was already applied, and gossip's messages are idempotent: see docs/security.md).
//
// Thread-safe: a gossip::Peer seals and opens on two threads (its membership and data lanes). The
// cryptography runs outside any lock; only the nonce counters (atomic) and the replay windows and stats
// (behind a mutex held for a few instructions) are shared, so a 16 MiB frame never delays a ping.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "gossip/wire.h"

namespace cairn::gossip {

inline constexpr std::size_t kClusterKeyBytes = 32;
// Counters of one (epoch, stream) accepted out of order behind the highest seen.
inline constexpr std::uint64_t kReplayWindow = 4096;
// (epoch, stream) pairs whose replay windows are remembered (two per live sender).
inline constexpr std::size_t kMaxReplaySenders = 8192;
// The KDF context: 8 bytes, as crypto_kdf wants. Changing it changes every key id: a format break.
inline constexpr char kFrameKeyContext[] = "cairnpr1";

using ClusterKey = std::array<std::uint8_t, kClusterKeyBytes>;

// A cluster key from its text form: 64 hex digits (surrounding white space ignored). kInvalidArgument
// otherwise.
Result<ClusterKey> parse_cluster_key(std::string_view text);
// The text form: 64 lower-case hex digits.
std::string cluster_key_to_hex(const ClusterKey& key);
// 32 bytes from the OS's CSPRNG.
ClusterKey random_cluster_key();
// The key id a sealer under `key` writes into headers (never 0).
std::uint32_t key_id_of(const ClusterKey& key);

// Which nonce counter a frame uses; the receiver keeps one replay window per stream.
enum class CounterStream : std::uint8_t { kDatagram = 0, kStream = 1 };

struct OpenResult {
  bool ok = false;
  std::string payload;  // The plaintext (a Cap'n Proto envelope, still untrusted) when ok.
  FrameError error = FrameError::kUnauthenticated;
  std::string detail;  // For logs.
};

struct SealerStats {
  std::uint64_t sealed = 0;
  std::uint64_t opened = 0;
  std::uint64_t unsendable = 0;  // Payloads too large to seal within kMaxFramePayloadBytes.
};

class FrameSealer {
 public:
  // `keys` must not be empty: the first seals, every one opens. Draws the epoch from the CSPRNG.
  explicit FrameSealer(std::vector<ClusterKey> keys);

  // A whole sealed frame of `type` carrying `payload`, or an empty string (counted as unsendable) when
  // the sealed payload would exceed kMaxFramePayloadBytes.
  std::string seal(FrameType type, CounterStream stream, std::string_view payload);

  // Opens a whole frame (header + sealed payload). Never throws. Drops, with `error`:
  //   kBadMagic, kWrongVersion, kUnknownType, kOversized, kTruncated   as decode_peer_frame;
  //   kUndecodable      bytes after the payload the header announces, flags not 0;
  //   kUnsealed         key id 0 (an unsealed frame);
  //   kUnknownKey       a key id none of our keys has;
  //   kUnauthenticated  the AEAD check failed (tampered, truncated tag, wrong key with a colliding id);
  //   kReplayed         authentic, but its counter was seen before or is older than the window.
  // `expected_type` is the frame type the caller reads (kPeerMessage for peers); a header announcing
  // more than `max_payload_bytes` is kOversized.
  OpenResult open(std::string_view frame, FrameType expected_type = FrameType::kPeerMessage,
                  std::size_t max_payload_bytes = kMaxFramePayloadBytes);

  std::uint32_t send_key_id() const { return keys_.front().id; }
  SealerStats stats() const;
  std::size_t remembered_senders() const;

 private:
  struct FrameKey {
    std::array<std::uint8_t, 32> key;
    std::uint32_t id;
  };
  struct Window {
    std::uint64_t highest = 0;
    std::array<std::uint64_t, kReplayWindow / 64> seen{};  // Bit i: counter highest - i was seen.
    std::uint64_t last_used = 0;
  };
  using WindowKey = std::array<std::uint8_t, 16>;  // Epoch and counter stream: the nonce's first 16 bytes.

  // True if `counter` is fresh in `window`; marks it seen.
  static bool accept(Window& window, std::uint64_t counter);
  // With mutex_ held.
  Window& window_for(const WindowKey& key);
  void count(std::uint64_t SealerStats::*counter);

  // Set by the constructor, then only read.
  std::vector<FrameKey> keys_;
  std::array<std::uint8_t, 15> epoch_{};
  std::array<std::atomic<std::uint64_t>, 2> next_counter_{};  // Per CounterStream; start at 1.
  mutable std::mutex mutex_;  // Guards what follows.
  std::map<WindowKey, Window> windows_;
  std::uint64_t use_clock_ = 0;
  SealerStats stats_;
};

}  // namespace cairn::gossip
