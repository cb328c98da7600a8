// The defaults and protocol limits that more than one layer names, each stated once here: NodeOptions
// and NodeLimits (node.h) take their defaults from these, the gossip machines' options use the same,
// the frame header (src/codec/frame.h), the peer wire format (gossip/wire.h) and the client protocol
// (src/protocol/protocol.h) take their limits from them, and cairnd's settings (src/daemon/settings.cpp)
// bound their values with them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cairn {

// ---- Protocol limits (a peer of another build must agree). ----

// The largest peer frame payload, sealed bytes included: one 16 MiB value with its metadata in one
// delta-group.
inline constexpr std::size_t kProtocolMaxFramePayloadBytes = std::size_t{24} << 20;
// Delta-log entries one DeltaPush may carry.
inline constexpr std::size_t kProtocolMaxDeltaPushEntries = 4096;

// ---- Defaults. ----

// Partitions (docs/partitions.md): a cluster setting fixed when a store is created. The count is a
// power of two from 1 to kMaxPartitionCount, so a later split of every partition in two keeps each
// key's new partition inside its old one. The default was chosen by measurement (docs/partitions.md).
inline constexpr std::uint32_t kDefaultPartitionCount = 256;
inline constexpr std::uint32_t kMaxPartitionCount = 4096;

// Ports (docs/cairnd.md "Ports").
inline constexpr std::uint16_t kDefaultGossipPort = 7400;
inline constexpr std::uint16_t kDefaultClientPort = 7401;
inline constexpr std::uint16_t kDefaultHttpPort = 7402;
inline constexpr std::uint16_t kDefaultRespPort = 7403;

// Gossip timing.
inline constexpr std::uint64_t kDefaultGossipIntervalMs = 200;   // New deltas to neighbours.
inline constexpr std::uint64_t kDefaultProtocolPeriodMs = 1000;  // SWIM probe period.
inline constexpr std::uint64_t kDefaultSuspicionTimeoutMs = 5000;
inline constexpr std::uint64_t kDefaultRetireAfterMs = 7ull * 24 * 3600 * 1000;

// Peer limits.
inline constexpr std::size_t kDefaultMaxPeerConnections = 1024;
inline constexpr std::size_t kDefaultMaxMembers = 4096;
inline constexpr std::size_t kDefaultMaxDeltaBatchEntries = 64;
inline constexpr std::size_t kDefaultMaxDeltaBatchBytes = std::size_t{4} << 20;

// Client limits. The frame payload: a 16 MiB value with room for its framing.
inline constexpr std::size_t kDefaultMaxClientConnections = 1024;
inline constexpr std::size_t kDefaultMaxClientFrameBytes = (std::size_t{16} << 20) + (std::size_t{64} << 10);
inline constexpr std::size_t kDefaultMaxClientRequestsInFlight = 256;

}  // namespace cairn
