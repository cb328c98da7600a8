// A gossip::Peer over a real store for the peer-frame fuzzers, sealed under a fixed test key. The store
// lives in a fresh temporary directory for the whole run (LMDB, not fsynced).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "cairn/store.h"
#include "gossip/peer.h"
#include "gossip/sealing.h"

namespace cairn::fuzz {

[[noreturn]] inline void violation(const char* fuzzer, const char* what) {
  std::fprintf(stderr, "%s: %s\n", fuzzer, what);
  std::abort();
}

inline constexpr const char* kClusterName = "fuzz";

// The key every input is sealed with (it protects nothing; it only has to be fixed).
inline gossip::ClusterKey test_key() {
  gossip::ClusterKey key{};
  key.fill(0x42);
  return key;
}

inline store::Replica& shared_store(const char* fuzzer) {
  static std::unique_ptr<store::Replica> store = [fuzzer] {
    std::string pattern = (std::filesystem::temp_directory_path() / "cairn-peer-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) violation(fuzzer, "cannot create a temporary directory");
    StoreOptions options;
    options.durability = Durability::kNoSync;
    auto opened = store::open_replica(pattern, store::ReplicaOptions{options, nullptr});
    if (!opened) violation(fuzzer, "cannot open the store");
    return std::move(*opened);
  }();
  return *store;
}

inline std::unique_ptr<gossip::Peer> make_peer(store::Replica& store) {
  gossip::PeerOptions options;
  options.cluster_name = kClusterName;
  options.security.cluster_keys = {test_key()};
  return std::make_unique<gossip::Peer>(gossip::Endpoint{"10.0.0.1", 7400}, store,
                                        std::vector<gossip::Endpoint>{}, options, 1);
}

inline std::uint64_t dropped(const gossip::Peer& peer, gossip::FrameError reason) {
  return peer.stats().frames_dropped[static_cast<std::size_t>(reason)];
}

}  // namespace cairn::fuzz
