// The store identity record and the records of the `peers` database (src/codec/codec.h).
#include "src/codec/parts.h"

namespace cairn::codec {

using namespace detail;

std::string encode_meta(const StoreMeta& meta) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoreMeta>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::STORE_META);
  root.setStoreFormatVersion(meta.format_version);
  root.setReplica(meta.replica.value);
  root.setNextDeltaSequence(meta.next_delta_sequence);
  if (meta.fingerprint) {
    auto fingerprint = root.initFingerprint();
    fingerprint.setInode(meta.fingerprint->inode);
    fingerprint.setFilesystem(meta.fingerprint->filesystem);
    fingerprint.setMachine(meta.fingerprint->machine);
  }
  auto predecessors = root.initPredecessors(static_cast<unsigned>(meta.predecessors.size()));
  for (unsigned i = 0; i < meta.predecessors.size(); ++i) predecessors.set(i, meta.predecessors[i].value);
  root.setUnconfirmedFrom(meta.unconfirmed_from);
  root.setUnconfirmedFromSequence(meta.unconfirmed_from_sequence);
  root.setPartitionCount(meta.partition_count);
  return to_bytes(message);
}

Result<StoreMeta> decode_meta(std::string_view bytes) {
  return decode_message<
      schema::StoreMeta>(bytes, "store meta", [](schema::StoreMeta::Reader root) -> Result<StoreMeta> {
    if (auto header = check_header(root, schema::MessageType::STORE_META); !header) return forward(header);
    StoreMeta meta{root.getStoreFormatVersion(), ReplicaId{root.getReplica()}, root.getNextDeltaSequence()};
    if (root.hasFingerprint()) {
      const auto fingerprint = root.getFingerprint();
      meta.fingerprint = StoreFingerprint{fingerprint.getInode(), fingerprint.getFilesystem(), fingerprint.getMachine()};
    }
    const auto predecessors = root.getPredecessors();
    if (auto length = check_length(predecessors, "a store's predecessor ids"); !length) return forward(length);
    for (const std::uint64_t id : predecessors) {
      if (id == 0) return corrupt("store meta names replica 0 as a predecessor");
      meta.predecessors.push_back(ReplicaId{id});
    }
    meta.unconfirmed_from = root.getUnconfirmedFrom();
    meta.unconfirmed_from_sequence = root.getUnconfirmedFromSequence();
    meta.partition_count = root.getPartitionCount();
    return meta;
  });
}

std::string encode_peer_record(const PeerRecord& peer) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::PeerRecord>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::PEER_RECORD);
  root.setId(peer.id);
  root.setHost(peer.host);
  root.setPort(peer.port);
  root.setStatus(peer.status);
  root.setIncarnation(peer.incarnation);
  return to_bytes(message);
}

Result<PeerRecord> decode_peer_record(std::string_view bytes) {
  return decode_message<
      schema::PeerRecord>(bytes, "peer record", [](schema::PeerRecord::Reader root) -> Result<PeerRecord> {
    if (auto header = check_header(root, schema::MessageType::PEER_RECORD); !header) return forward(header);
    if (root.getId() == 0) return fail(ErrorCode::kCorrupt, "peer record has replica id 0");
    if (root.getStatus() > 3) return fail(ErrorCode::kUnsupported, "peer record has an unknown member status");
    if (root.getHost().size() > 255) return fail(ErrorCode::kCorrupt, "peer record host is over 255 bytes");
    return PeerRecord{root.getId(), std::string(root.getHost().cStr(), root.getHost().size()), root.getPort(),
                      root.getStatus(), root.getIncarnation()};
  });
}

}  // namespace cairn::codec
