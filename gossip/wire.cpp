// Frames over schema/wire.capnp.
//
// Decoding goes in three steps, each refusing as early as it can: the clear header (magic, version,
// type, length limit) before anything else is looked at; then the Cap'n Proto payload, read with a
// traversal limit proportional to its size and a nesting limit, every kj::Exception Cap'n Proto throws
// on malformed input caught here and turned into kUndecodable, every list length checked before its
// elements are copied; then validate_envelope() on the copy, the same rules a sender should check.
// Each pointer field is read once, because each read counts against the traversal limit.
#include "gossip/wire.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <kj/exception.h>
#include <kj/io.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "src/store/replica_types.h"
#include "schema/wire.capnp.h"
#include "src/codec/untrusted_message.h"

namespace cairn::gossip {
namespace {

namespace wire_schema = cairn::schema::wire;

constexpr char kMagic[4] = {'C', 'A', 'I', 'R'};

// Header field offsets, as in the table in wire.h.
constexpr std::size_t kMagicOffset = 0;
constexpr std::size_t kVersionOffset = 4;
constexpr std::size_t kTypeOffset = 5;
constexpr std::size_t kFlagsOffset = 6;
constexpr std::size_t kKeyIdOffset = 8;
constexpr std::size_t kNonceOffset = 12;
constexpr std::size_t kPayloadLengthOffset = 36;
static_assert(kPayloadLengthOffset + 4 == kFrameHeaderBytes);
static_assert(kNonceOffset + std::tuple_size_v<decltype(FrameHeader::nonce)> == kPayloadLengthOffset);

// The deepest legitimate payload nests 5 pointers (envelope, ping request, updates, update, endpoint
// with its host); the limit leaves room for fields a later protocol adds.
constexpr int kNestingLimit = 16;

// A legitimate payload is read once, object by object, so it costs at most its own size in words;
// twice that (never less than this floor) caps how far a message whose pointers share objects can
// amplify the work of reading it.
constexpr std::uint64_t kMinTraversalLimitWords = 1024;

template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

tl::unexpected<Error> protocol_error(std::string message) {
  return fail(ErrorCode::kProtocol, std::move(message));
}

template <typename T>
tl::unexpected<Error> forward(Result<T>& failed) {
  return tl::unexpected<Error>(std::move(failed.error()));
}

// ---- Big-endian integers. ----

void put_u16(char* out, std::uint16_t value) {
  out[0] = static_cast<char>(value >> 8);
  out[1] = static_cast<char>(value);
}

void put_u32(char* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (24 - 8 * i));
}

std::uint8_t get_u8(std::string_view bytes, std::size_t offset) {
  return static_cast<std::uint8_t>(bytes[offset]);
}

std::uint16_t get_u16(std::string_view bytes, std::size_t offset) {
  return static_cast<std::uint16_t>(get_u8(bytes, offset) << 8 | get_u8(bytes, offset + 1));
}

std::uint32_t get_u32(std::string_view bytes, std::size_t offset) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) value = value << 8 | get_u8(bytes, offset + i);
  return value;
}

// ---- The header. ----

const char* frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::kPeerMessage:
      return "peer message";
    case FrameType::kClientRequest:
      return "client request";
    case FrameType::kClientResponse:
      return "client response";
  }
  return nullptr;
}

// parse_frame_header(), also saying in `detail` why a header is refused.
HeaderResult parse_header(std::string_view bytes, std::size_t max_payload_bytes, std::string& detail) {
  HeaderResult result;
  if (bytes.size() < kFrameHeaderBytes) {
    result.error = FrameError::kTruncated;
    detail = cat("frame of ", bytes.size(), " bytes is shorter than the ", kFrameHeaderBytes, "-byte header");
    return result;
  }
  if (bytes.substr(kMagicOffset, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic)) {
    result.error = FrameError::kBadMagic;
    detail = "frame does not start with the magic \"CAIR\"";
    return result;
  }
  FrameHeader& header = result.header;
  header.version = get_u8(bytes, kVersionOffset);
  if (header.version != kProtocolVersion) {
    result.error = FrameError::kWrongVersion;
    detail = cat("frame has protocol version ", unsigned{header.version}, "; this build speaks version ",
                 unsigned{kProtocolVersion});
    return result;
  }
  const std::uint8_t type = get_u8(bytes, kTypeOffset);
  header.type = static_cast<FrameType>(type);
  if (frame_type_name(header.type) == nullptr) {
    result.error = FrameError::kUnknownType;
    detail = cat("frame has unknown frame type ", unsigned{type});
    return result;
  }
  header.flags = get_u16(bytes, kFlagsOffset);
  header.key_id = get_u32(bytes, kKeyIdOffset);
  for (std::size_t i = 0; i < header.nonce.size(); ++i) header.nonce[i] = get_u8(bytes, kNonceOffset + i);
  header.payload_length = get_u32(bytes, kPayloadLengthOffset);
  if (header.payload_length > max_payload_bytes) {
    result.error = FrameError::kOversized;
    detail = cat("frame header announces a payload of ", header.payload_length, " bytes, over the limit of ",
                 max_payload_bytes);
    return result;
  }
  result.ok = true;
  return result;
}

// ---- Validation. ----

Status check_endpoint(const Endpoint& endpoint, const char* what) {
  if (endpoint.port == 0) return protocol_error(cat(what, " has port 0"));
  if (endpoint.host.empty()) return protocol_error(cat(what, " has an empty host"));
  if (endpoint.host.size() > kMaxHostBytes) {
    return protocol_error(
        cat(what, " has a host of ", endpoint.host.size(), " bytes, over the limit of ", kMaxHostBytes));
  }
  if (endpoint.host.find('\0') != std::string::npos)
    return protocol_error(cat(what, " has a NUL byte in its host"));
  return ok();
}

bool is_known(MemberStatus status) {
  switch (status) {
    case MemberStatus::kAlive:
    case MemberStatus::kSuspect:
    case MemberStatus::kDead:
    case MemberStatus::kLeft:
      return true;
  }
  return false;
}

Status check_updates(const std::vector<MemberUpdate>& updates) {
  if (updates.size() > kMaxUpdatesPerMessage) {
    return protocol_error(cat("message carries ", updates.size(), " member updates, over the limit of ",
                              kMaxUpdatesPerMessage));
  }
  for (const MemberUpdate& update : updates) {
    if (!is_known(update.status)) {
      return protocol_error(cat("member update about ", update.id, " has unknown status ",
                                static_cast<unsigned>(update.status)));
    }
    if (auto endpoint = check_endpoint(update.endpoint, "a member update's endpoint"); !endpoint)
      return endpoint;
  }
  return ok();
}

Status check_body(const Ping& ping) { return check_updates(ping.updates); }
Status check_body(const PingAck& ack) { return check_updates(ack.updates); }

Status check_body(const PingRequest& request) {
  if (auto target = check_endpoint(request.target_endpoint, "a ping request's target endpoint"); !target) {
    return target;
  }
  return check_updates(request.updates);
}

Status check_body(const DeltaPush& push) {
  if (push.entries.size() > kMaxDeltaPushEntries) {
    return protocol_error(cat("delta push carries ", push.entries.size(), " entries, over the limit of ",
                              kMaxDeltaPushEntries));
  }
  for (std::size_t i = 0; i < push.entries.size(); ++i) {
    const DeltaPush::Entry& entry = push.entries[i];
    if (i > 0 && entry.sequence <= push.entries[i - 1].sequence) {
      return protocol_error(cat("delta push entry ", i, " has sequence ", entry.sequence,
                                ", not above the previous entry's ", push.entries[i - 1].sequence));
    }
    if (entry.delta_group.size() > kMaxFramePayloadBytes) {
      return protocol_error(cat("delta push entry ", i, " carries a delta-group of ",
                                entry.delta_group.size(), " bytes, over the limit of ",
                                kMaxFramePayloadBytes));
    }
  }
  return ok();
}

Status check_body(const DeltaAck&) { return ok(); }

// Strictly ascending, each below `limit`.
template <typename Number>
Status check_ascending(const std::vector<Number>& numbers, std::uint64_t limit, const char* what) {
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (numbers[i] >= limit) return protocol_error(cat(what, " ", numbers[i], " is out of range (limit ", limit, ")"));
    if (i > 0 && numbers[i] <= numbers[i - 1]) {
      return protocol_error(cat(what, "s are not strictly ascending at index ", i));
    }
  }
  return ok();
}

Status check_body(const TreeLevel& tree) {
  if (tree.level < 1 || tree.level > kTreeLeafLevel) {
    return protocol_error(cat("tree level message has level ", unsigned{tree.level}, "; levels are 1 to ",
                              kTreeLeafLevel));
  }
  if (tree.parents.size() > kMaxTreeParents) {
    return protocol_error(
        cat("tree level message names ", tree.parents.size(), " parents, over the limit of ", kMaxTreeParents));
  }
  if (tree.parents.empty()) return protocol_error("tree level message names no parents");
  std::uint64_t parents_at_level = 1;
  for (unsigned l = 1; l < tree.level; ++l) parents_at_level *= kTreeFanout;
  if (auto parents = check_ascending(tree.parents, parents_at_level, "tree parent"); !parents) return parents;
  if (!tree.hashes.empty() && tree.hashes.size() != tree.parents.size() * kTreeFanout) {
    return protocol_error(cat("tree level message carries ", tree.hashes.size(), " hashes for ",
                              tree.parents.size(), " parents; it must carry 16 per parent or none"));
  }
  if (tree.level != 1 && !tree.context.empty()) {
    return protocol_error("tree level message below level 1 carries a causal context");
  }
  if (tree.context.size() > kMaxFramePayloadBytes) return protocol_error("tree level context is oversized");
  return ok();
}

Status check_buckets(const std::vector<std::uint32_t>& buckets, const char* what) {
  if (buckets.size() > kMaxExchangeBuckets) {
    return protocol_error(cat(what, " covers ", buckets.size(), " buckets, over the limit of ", kMaxExchangeBuckets));
  }
  if (buckets.empty()) return protocol_error(cat(what, " covers no bucket"));
  return check_ascending(buckets, kTreeLeafBuckets, "bucket");
}

// Every key hash lies in one of the (ascending) buckets: its top 16 bits name its bucket.
Status check_key_hashes(const std::vector<std::uint64_t>& hashes, const std::vector<std::uint32_t>& buckets,
                        const char* what) {
  if (hashes.size() > kMaxDigestRecords) {
    return protocol_error(cat(what, " lists ", hashes.size(), " key hashes, over the limit of ", kMaxDigestRecords));
  }
  for (std::uint64_t hash : hashes) {
    if (!std::binary_search(buckets.begin(), buckets.end(), static_cast<std::uint32_t>(hash >> 48))) {
      return protocol_error(cat(what, " lists a key hash outside its buckets"));
    }
  }
  return ok();
}

Status check_body(const BucketDigest& digest) {
  if (auto buckets = check_buckets(digest.buckets, "bucket digest"); !buckets) return buckets;
  if (digest.record_hashes.size() != digest.key_hashes.size()) {
    return protocol_error("bucket digest has not as many record hashes as key hashes");
  }
  return check_key_hashes(digest.key_hashes, digest.buckets, "bucket digest");
}

Status check_body(const BucketDelta& delta) {
  if (auto buckets = check_buckets(delta.buckets, "bucket delta"); !buckets) return buckets;
  if (auto absent = check_key_hashes(delta.absent, delta.buckets, "bucket delta's absent list"); !absent) return absent;
  if (auto wanted = check_key_hashes(delta.wanted, delta.buckets, "bucket delta's wanted list"); !wanted) return wanted;
  if (!delta.reply && !delta.wanted.empty()) return protocol_error("a bucket delta that is no reply wants records");
  if (delta.records.size() > kMaxFramePayloadBytes) return protocol_error("bucket delta records are oversized");
  return ok();
}

template <typename Entry>
Status check_ascending_replicas(const std::vector<Entry>& entries, const char* what) {
  if (entries.size() > kMaxReportEntries) {
    return protocol_error(cat("context report lists ", entries.size(), " ", what, ", over the limit of ",
                              kMaxReportEntries));
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].replica.value == 0) return protocol_error(cat("context report ", what, " name replica 0"));
    if (i > 0 && !(entries[i - 1].replica < entries[i].replica)) {
      return protocol_error(cat("context report ", what, " are not strictly ascending by replica"));
    }
  }
  return ok();
}

Status check_body(const ContextReport& report) {
  for (const auto* entries : {&report.vector, &report.gaps}) {
    if (auto ascending = check_ascending_replicas(*entries, "vector entries"); !ascending) return ascending;
    for (const VectorEntry& entry : *entries) {
      if (entry.counter == 0) return protocol_error("context report has a vector entry of counter 0");
    }
  }
  return check_ascending_replicas(report.retirements, "retirements");
}

Status check_body(const RetiredNotice&) { return ok(); }

// ---- Encoding. ----

capnp::Data::Reader as_data(const std::string& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

capnp::Text::Reader as_text(const std::string& text) { return capnp::Text::Reader(text.data(), text.size()); }

void write_endpoint(wire_schema::Endpoint::Builder out, const Endpoint& endpoint) {
  out.setHost(as_text(endpoint.host));
  out.setPort(endpoint.port);
}

void write_updates(capnp::List<wire_schema::MemberUpdate>::Builder out,
                   const std::vector<MemberUpdate>& updates) {
  for (unsigned i = 0; i < updates.size(); ++i) {
    const MemberUpdate& update = updates[i];
    auto element = out[i];
    element.setId(update.id.value);
    write_endpoint(element.initEndpoint(), update.endpoint);
    element.setStatus(static_cast<wire_schema::MemberStatus>(update.status));
    element.setIncarnation(update.incarnation);
  }
}

// Writes one body alternative into the envelope's union.
struct BodyWriter {
  wire_schema::Envelope::Body::Builder body;

  void operator()(const Ping& ping) {
    auto out = body.initPing();
    out.setProbe(ping.probe);
    write_updates(out.initUpdates(static_cast<unsigned>(ping.updates.size())), ping.updates);
  }
  void operator()(const PingAck& ack) {
    auto out = body.initPingAck();
    out.setProbe(ack.probe);
    write_updates(out.initUpdates(static_cast<unsigned>(ack.updates.size())), ack.updates);
  }
  void operator()(const PingRequest& request) {
    auto out = body.initPingRequest();
    out.setProbe(request.probe);
    out.setTarget(request.target.value);
    write_endpoint(out.initTargetEndpoint(), request.target_endpoint);
    write_updates(out.initUpdates(static_cast<unsigned>(request.updates.size())), request.updates);
  }
  void operator()(const DeltaPush& push) {
    auto entries = body.initDeltaPush().initEntries(static_cast<unsigned>(push.entries.size()));
    for (unsigned i = 0; i < push.entries.size(); ++i) {
      entries[i].setSequence(push.entries[i].sequence);
      entries[i].setDeltaGroup(as_data(push.entries[i].delta_group));
    }
  }
  void operator()(const DeltaAck& ack) { body.initDeltaAck().setSequence(ack.sequence); }
  void operator()(const TreeLevel& tree) {
    auto out = body.initTreeLevel();
    out.setRound(tree.round);
    out.setReply(tree.reply);
    out.setLevel(tree.level);
    fill(out.initParents(static_cast<unsigned>(tree.parents.size())), tree.parents);
    fill(out.initHashes(static_cast<unsigned>(tree.hashes.size())), tree.hashes);
    if (!tree.context.empty()) out.setContext(as_data(tree.context));
    out.setBusy(tree.busy);
  }
  template <typename ListBuilder, typename Numbers>
  static void fill(ListBuilder list, const Numbers& numbers) {
    for (unsigned i = 0; i < numbers.size(); ++i) list.set(i, numbers[i]);
  }
  void operator()(const BucketDigest& digest) {
    auto out = body.initBucketDigest();
    out.setRound(digest.round);
    fill(out.initBuckets(static_cast<unsigned>(digest.buckets.size())), digest.buckets);
    fill(out.initKeyHashes(static_cast<unsigned>(digest.key_hashes.size())), digest.key_hashes);
    fill(out.initRecordHashes(static_cast<unsigned>(digest.record_hashes.size())), digest.record_hashes);
  }
  void operator()(const BucketDelta& delta) {
    auto out = body.initBucketDelta();
    out.setRound(delta.round);
    out.setReply(delta.reply);
    fill(out.initBuckets(static_cast<unsigned>(delta.buckets.size())), delta.buckets);
    out.setRecords(as_data(delta.records));
    fill(out.initAbsent(static_cast<unsigned>(delta.absent.size())), delta.absent);
    fill(out.initWanted(static_cast<unsigned>(delta.wanted.size())), delta.wanted);
  }
  void operator()(const ContextReport& report) {
    auto out = body.initContextReport();
    auto vector = out.initVector(static_cast<unsigned>(report.vector.size()));
    for (unsigned i = 0; i < report.vector.size(); ++i) {
      vector[i].setReplica(report.vector[i].replica.value);
      vector[i].setCounter(report.vector[i].counter);
    }
    auto retirements = out.initRetirements(static_cast<unsigned>(report.retirements.size()));
    for (unsigned i = 0; i < report.retirements.size(); ++i) {
      retirements[i].setReplica(report.retirements[i].replica.value);
      retirements[i].setThrough(report.retirements[i].through);
    }
    auto gaps = out.initGaps(static_cast<unsigned>(report.gaps.size()));
    for (unsigned i = 0; i < report.gaps.size(); ++i) {
      gaps[i].setReplica(report.gaps[i].replica.value);
      gaps[i].setCounter(report.gaps[i].counter);
    }
    out.setReplyWanted(report.reply_wanted);
  }
  void operator()(const RetiredNotice& notice) {
    auto out = body.initRetiredNotice();
    out.setThrough(notice.through);
    out.setReplica(notice.replica.value);
  }
};

std::size_t words_for_bytes(std::size_t bytes) {
  return (bytes + sizeof(capnp::word) - 1) / sizeof(capnp::word);
}

// A generous estimate of the payload's size in words, so the builder usually needs one segment (no
// far pointers, and the 16 MiB delta-group is not followed by a second large allocation).
std::size_t estimate_words(const Envelope& envelope) {
  const auto endpoint_words = [](const Endpoint& endpoint) {
    return 3 + words_for_bytes(endpoint.host.size() + 1);
  };
  const auto updates_words = [&](const std::vector<MemberUpdate>& updates) {
    std::size_t words = 1;
    for (const MemberUpdate& update : updates) words += 5 + endpoint_words(update.endpoint);
    return words;
  };
  std::size_t words = 16 + endpoint_words(envelope.sender_endpoint);
  if (const auto* ping = std::get_if<Ping>(&envelope.body)) words += updates_words(ping->updates);
  if (const auto* ack = std::get_if<PingAck>(&envelope.body)) words += updates_words(ack->updates);
  if (const auto* request = std::get_if<PingRequest>(&envelope.body)) {
    words += endpoint_words(request->target_endpoint) + updates_words(request->updates);
  }
  if (const auto* push = std::get_if<DeltaPush>(&envelope.body)) {
    for (const DeltaPush::Entry& entry : push->entries)
      words += 4 + words_for_bytes(entry.delta_group.size());
  }
  if (const auto* tree = std::get_if<TreeLevel>(&envelope.body)) {
    words += 8 + tree->parents.size() / 2 + tree->hashes.size() + words_for_bytes(tree->context.size());
  }
  if (const auto* digest = std::get_if<BucketDigest>(&envelope.body)) {
    words += 8 + digest->buckets.size() / 2 + 2 * digest->key_hashes.size();
  }
  if (const auto* delta = std::get_if<BucketDelta>(&envelope.body)) {
    words += 12 + delta->buckets.size() / 2 + words_for_bytes(delta->records.size()) + delta->absent.size() +
             delta->wanted.size();
  }
  if (const auto* report = std::get_if<ContextReport>(&envelope.body)) {
    words += 10 + 3 * (report->vector.size() + report->retirements.size() + report->gaps.size());
  }
  return words;
}

// ---- Decoding. ----

Result<Endpoint> read_endpoint(wire_schema::Endpoint::Reader in, const char* what) {
  const capnp::Text::Reader host = in.getHost();
  if (host.size() > kMaxHostBytes) {
    return protocol_error(
        cat(what, " has a host of ", host.size(), " bytes, over the limit of ", kMaxHostBytes));
  }
  return Endpoint{std::string(host.begin(), host.size()), in.getPort()};
}

Result<std::vector<MemberUpdate>> read_updates(capnp::List<wire_schema::MemberUpdate>::Reader in) {
  if (in.size() > kMaxUpdatesPerMessage) {
    return protocol_error(
        cat("message carries ", in.size(), " member updates, over the limit of ", kMaxUpdatesPerMessage));
  }
  std::vector<MemberUpdate> updates;
  updates.reserve(in.size());
  for (const auto element : in) {
    const auto raw_status = static_cast<unsigned>(element.getStatus());
    if (raw_status > static_cast<unsigned>(MemberStatus::kLeft)) {
      return protocol_error(
          cat("member update about ", PeerId{element.getId()}, " has unknown status ", raw_status));
    }
    auto endpoint = read_endpoint(element.getEndpoint(), "a member update's endpoint");
    if (!endpoint) return forward(endpoint);
    updates.push_back(MemberUpdate{PeerId{element.getId()}, std::move(*endpoint),
                                   static_cast<MemberStatus>(raw_status), element.getIncarnation()});
  }
  return updates;
}

std::string read_data(capnp::Data::Reader data) {
  std::string bytes;
  if (data.size() > 0) bytes.assign(reinterpret_cast<const char*>(data.begin()), data.size());
  return bytes;
}

Result<DeltaPush> read_delta_push(wire_schema::DeltaPush::Reader in) {
  const auto entries = in.getEntries();
  if (entries.size() > kMaxDeltaPushEntries) {
    return protocol_error(
        cat("delta push carries ", entries.size(), " entries, over the limit of ", kMaxDeltaPushEntries));
  }
  DeltaPush push;
  push.entries.reserve(entries.size());
  for (const auto element : entries) {
    push.entries.push_back(DeltaPush::Entry{element.getSequence(), read_data(element.getDeltaGroup())});
  }
  return push;
}

// Copies a list of numbers, refusing one longer than `limit` before copying anything.
template <typename Number, typename List>
Result<std::vector<Number>> read_numbers(List in, std::size_t limit, const char* what) {
  if (in.size() > limit) return protocol_error(cat(what, " has ", in.size(), " entries, over the limit of ", limit));
  std::vector<Number> numbers;
  numbers.reserve(in.size());
  for (const Number number : in) numbers.push_back(number);
  return numbers;
}

Result<TreeLevel> read_tree_level(wire_schema::TreeLevel::Reader in) {
  TreeLevel tree;
  tree.round = in.getRound();
  tree.reply = in.getReply();
  tree.level = in.getLevel();
  auto parents = read_numbers<std::uint32_t>(in.getParents(), kMaxTreeParents, "a tree level message's parents");
  if (!parents) return forward(parents);
  auto hashes = read_numbers<std::uint64_t>(in.getHashes(), kMaxTreeParents * kTreeFanout, "a tree level message's hashes");
  if (!hashes) return forward(hashes);
  tree.parents = std::move(*parents);
  tree.hashes = std::move(*hashes);
  tree.context = read_data(in.getContext());
  tree.busy = in.getBusy();
  return tree;
}

Result<BucketDigest> read_bucket_digest(wire_schema::BucketDigest::Reader in) {
  BucketDigest digest;
  digest.round = in.getRound();
  auto buckets = read_numbers<std::uint32_t>(in.getBuckets(), kMaxExchangeBuckets, "a bucket digest's buckets");
  if (!buckets) return forward(buckets);
  auto keys = read_numbers<std::uint64_t>(in.getKeyHashes(), kMaxDigestRecords, "a bucket digest's key hashes");
  if (!keys) return forward(keys);
  auto records = read_numbers<std::uint64_t>(in.getRecordHashes(), kMaxDigestRecords, "a bucket digest's record hashes");
  if (!records) return forward(records);
  digest.buckets = std::move(*buckets);
  digest.key_hashes = std::move(*keys);
  digest.record_hashes = std::move(*records);
  return digest;
}

Result<BucketDelta> read_bucket_delta(wire_schema::BucketDelta::Reader in) {
  BucketDelta delta;
  delta.round = in.getRound();
  delta.reply = in.getReply();
  auto buckets = read_numbers<std::uint32_t>(in.getBuckets(), kMaxExchangeBuckets, "a bucket delta's buckets");
  if (!buckets) return forward(buckets);
  delta.buckets = std::move(*buckets);
  delta.records = read_data(in.getRecords());
  auto absent = read_numbers<std::uint64_t>(in.getAbsent(), kMaxDigestRecords, "a bucket delta's absent list");
  if (!absent) return forward(absent);
  auto wanted = read_numbers<std::uint64_t>(in.getWanted(), kMaxDigestRecords, "a bucket delta's wanted list");
  if (!wanted) return forward(wanted);
  delta.absent = std::move(*absent);
  delta.wanted = std::move(*wanted);
  return delta;
}

Result<ContextReport> read_context_report(wire_schema::ContextReport::Reader in) {
  ContextReport report;
  const auto vector = in.getVector();
  const auto retirements = in.getRetirements();
  const auto gaps = in.getGaps();
  if (vector.size() > kMaxReportEntries || retirements.size() > kMaxReportEntries || gaps.size() > kMaxReportEntries) {
    return protocol_error(cat("context report lists ", vector.size(), " vector entries, ", retirements.size(),
                              " retirements and ", gaps.size(), " gaps, over the limit of ", kMaxReportEntries));
  }
  report.gaps.reserve(gaps.size());
  for (auto entry : gaps) report.gaps.push_back(VectorEntry{PeerId{entry.getReplica()}, entry.getCounter()});
  report.vector.reserve(vector.size());
  for (auto entry : vector) report.vector.push_back(VectorEntry{PeerId{entry.getReplica()}, entry.getCounter()});
  report.retirements.reserve(retirements.size());
  for (auto entry : retirements) {
    report.retirements.push_back(RetiredReplica{PeerId{entry.getReplica()}, entry.getThrough()});
  }
  report.reply_wanted = in.getReplyWanted();
  return report;
}

template <typename Message>
Result<Body> with_updates(Message message, Result<std::vector<MemberUpdate>> updates) {
  if (!updates) return forward(updates);
  message.updates = std::move(*updates);
  return Body(std::move(message));
}

Result<Body> read_body(wire_schema::Envelope::Body::Reader in) {
  switch (in.which()) {
    case wire_schema::Envelope::Body::PING: {
      const auto ping = in.getPing();
      return with_updates(Ping{ping.getProbe(), {}}, read_updates(ping.getUpdates()));
    }
    case wire_schema::Envelope::Body::PING_ACK: {
      const auto ack = in.getPingAck();
      return with_updates(PingAck{ack.getProbe(), {}}, read_updates(ack.getUpdates()));
    }
    case wire_schema::Envelope::Body::PING_REQUEST: {
      const auto request = in.getPingRequest();
      auto target = read_endpoint(request.getTargetEndpoint(), "a ping request's target endpoint");
      if (!target) return forward(target);
      return with_updates(
          PingRequest{request.getProbe(), PeerId{request.getTarget()}, std::move(*target), {}},
          read_updates(request.getUpdates()));
    }
    case wire_schema::Envelope::Body::DELTA_PUSH: {
      auto push = read_delta_push(in.getDeltaPush());
      if (!push) return forward(push);
      return Body(std::move(*push));
    }
    case wire_schema::Envelope::Body::DELTA_ACK:
      return Body(DeltaAck{in.getDeltaAck().getSequence()});
    case wire_schema::Envelope::Body::TREE_LEVEL: {
      auto tree = read_tree_level(in.getTreeLevel());
      if (!tree) return forward(tree);
      return Body(std::move(*tree));
    }
    case wire_schema::Envelope::Body::BUCKET_DIGEST: {
      auto digest = read_bucket_digest(in.getBucketDigest());
      if (!digest) return forward(digest);
      return Body(std::move(*digest));
    }
    case wire_schema::Envelope::Body::BUCKET_DELTA: {
      auto delta = read_bucket_delta(in.getBucketDelta());
      if (!delta) return forward(delta);
      return Body(std::move(*delta));
    }
    case wire_schema::Envelope::Body::CONTEXT_REPORT: {
      auto report = read_context_report(in.getContextReport());
      if (!report) return forward(report);
      return Body(std::move(*report));
    }
    case wire_schema::Envelope::Body::RETIRED_NOTICE:
      return Body(RetiredNotice{PeerId{in.getRetiredNotice().getReplica()}, in.getRetiredNotice().getThrough()});
  }
  return protocol_error(cat("envelope has body kind ", static_cast<unsigned>(in.which()),
                            ", unknown to this build (sent by a newer cairn?)"));
}

Result<Envelope> read_envelope(wire_schema::Envelope::Reader in) {
  Envelope envelope;
  envelope.cluster_id = in.getClusterId();
  envelope.sender = PeerId{in.getSender()};
  auto endpoint = read_endpoint(in.getSenderEndpoint(), "the sender's endpoint");
  if (!endpoint) return forward(endpoint);
  envelope.sender_endpoint = std::move(*endpoint);
  auto body = read_body(in.getBody());
  if (!body) return forward(body);
  envelope.body = std::move(*body);
  return envelope;
}

// Reads `payload` as one Envelope message; every way it can fail to be one is a kProtocol error.
Result<Envelope> decode_payload(std::string_view payload) {
  const codec::MessageLimits limits{
      std::max<std::uint64_t>(2 * (payload.size() / sizeof(capnp::word)), kMinTraversalLimitWords), kNestingLimit};
  return codec::read_untrusted_message<wire_schema::Envelope>(
      payload, limits, ErrorCode::kProtocol, "payload",
      [](wire_schema::Envelope::Reader root) { return read_envelope(root); });
}

bool is_zero(const std::array<std::uint8_t, 24>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t byte) { return byte == 0; });
}

DecodeResult reject(FrameError error, std::string detail) {
  DecodeResult result;
  result.error = error;
  result.detail = std::move(detail);
  return result;
}

}  // namespace

std::string_view to_string(FrameError error) {
  switch (error) {
    case FrameError::kBadMagic:
      return "bad_magic";
    case FrameError::kWrongVersion:
      return "wrong_version";
    case FrameError::kUnknownType:
      return "unknown_type";
    case FrameError::kOversized:
      return "oversized";
    case FrameError::kTruncated:
      return "truncated";
    case FrameError::kUndecodable:
      return "undecodable";
    case FrameError::kUnsealed:
      return "unsealed";
    case FrameError::kUnknownKey:
      return "unknown_key";
    case FrameError::kUnauthenticated:
      return "unauthenticated";
    case FrameError::kReplayed:
      return "replayed";
  }
  return "unknown_frame_error";
}

HeaderResult parse_frame_header(std::string_view bytes, std::size_t max_payload_bytes) {
  std::string detail;
  return parse_header(bytes, max_payload_bytes, detail);
}

std::string encode_frame_header(const FrameHeader& header) {
  std::string bytes(kFrameHeaderBytes, '\0');
  std::memcpy(bytes.data() + kMagicOffset, kMagic, sizeof kMagic);
  bytes[kVersionOffset] = static_cast<char>(header.version);
  bytes[kTypeOffset] = static_cast<char>(header.type);
  put_u16(bytes.data() + kFlagsOffset, header.flags);
  put_u32(bytes.data() + kKeyIdOffset, header.key_id);
  std::memcpy(bytes.data() + kNonceOffset, header.nonce.data(), header.nonce.size());
  put_u32(bytes.data() + kPayloadLengthOffset, header.payload_length);
  return bytes;
}

Status validate_envelope(const Envelope& envelope) {
  if (auto sender = check_endpoint(envelope.sender_endpoint, "the sender's endpoint"); !sender) return sender;
  return std::visit([](const auto& body) { return check_body(body); }, envelope.body);
}

namespace {

// Builds the envelope's message and writes it after `prefix_bytes` zero bytes of a new string.
std::string write_payload(const Envelope& envelope, std::size_t prefix_bytes) {
  const std::size_t hint =
      std::min<std::size_t>(estimate_words(envelope), std::numeric_limits<unsigned>::max());
  capnp::MallocMessageBuilder message(static_cast<unsigned>(hint));
  auto root = message.initRoot<wire_schema::Envelope>();
  root.setClusterId(envelope.cluster_id);
  root.setSender(envelope.sender.value);
  write_endpoint(root.initSenderEndpoint(), envelope.sender_endpoint);
  std::visit(BodyWriter{root.initBody()}, envelope.body);

  const std::size_t payload_bytes = capnp::computeSerializedSizeInWords(message) * sizeof(capnp::word);
  std::string bytes(prefix_bytes + payload_bytes, '\0');
  kj::ArrayOutputStream out(
      kj::arrayPtr(reinterpret_cast<kj::byte*>(bytes.data() + prefix_bytes), payload_bytes));
  capnp::writeMessage(out, message);
  return bytes;
}

}  // namespace

std::string encode_peer_payload(const Envelope& envelope) { return write_payload(envelope, 0); }

std::string encode_peer_frame(const Envelope& envelope) {
  std::string frame = write_payload(envelope, kFrameHeaderBytes);
  const std::size_t payload_bytes = frame.size() - kFrameHeaderBytes;
  assert(payload_bytes <= kMaxFramePayloadBytes &&
         "frame over kMaxFramePayloadBytes: receivers would drop it");
  FrameHeader header;
  header.payload_length = static_cast<std::uint32_t>(payload_bytes);
  const std::string header_bytes = encode_frame_header(header);
  std::memcpy(frame.data(), header_bytes.data(), kFrameHeaderBytes);
  return frame;
}

DecodeResult decode_peer_frame(std::string_view frame, std::size_t max_payload_bytes) {
  std::string detail;
  const HeaderResult parsed = parse_header(frame, max_payload_bytes, detail);
  if (!parsed.ok) return reject(parsed.error, std::move(detail));
  const FrameHeader& header = parsed.header;
  if (header.type != FrameType::kPeerMessage) {
    return reject(FrameError::kUnknownType,
                  cat("frame of type ", frame_type_name(header.type), " where a peer message was expected"));
  }
  const std::size_t expected_bytes = kFrameHeaderBytes + header.payload_length;
  if (frame.size() < expected_bytes) {
    return reject(FrameError::kTruncated, cat("frame of ", frame.size(), " bytes is shorter than the ",
                                              expected_bytes, " its header announces"));
  }
  if (frame.size() > expected_bytes) {
    return reject(FrameError::kUndecodable, cat("frame has ", frame.size() - expected_bytes,
                                                " bytes after the payload its header announces"));
  }
  if (header.flags != 0 || header.key_id != 0 || !is_zero(header.nonce)) {
    return reject(FrameError::kUndecodable,
                  cat("frame header has flags ", header.flags, ", key id ", header.key_id,
                      " or a nonce set; this build reads only unsealed frames, where all are 0"));
  }
  return decode_peer_payload(frame.substr(kFrameHeaderBytes));
}

DecodeResult decode_peer_payload(std::string_view payload) {
  auto envelope = decode_payload(payload);
  if (!envelope) return reject(FrameError::kUndecodable, envelope.error().message());
  if (auto valid = validate_envelope(*envelope); !valid) {
    return reject(FrameError::kUndecodable, valid.error().message());
  }
  DecodeResult result;
  result.ok = true;
  result.envelope = std::move(*envelope);
  return result;
}

std::uint64_t cluster_id_of(std::string_view cluster_name) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis.
  for (const char c : cluster_name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;  // FNV-1a 64 prime.
  }
  return hash;
}

}  // namespace cairn::gossip
