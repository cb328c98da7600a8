// Client protocol messages over schema/client.capnp.
//
// Decoding reads each pointer field once (each read counts against the traversal limit) and checks
// every list length before copying its elements; every kj::Exception Cap'n Proto throws on malformed
// input is caught by codec::read_untrusted_message and becomes a kProtocol error.
#include "src/protocol/protocol.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "schema/client.capnp.h"
#include "src/codec/frame.h"
#include "src/codec/untrusted_message.h"

namespace cairn::protocol {
namespace {

namespace schema = cairn::schema::client;

// The deepest response nests 5 pointers (response, inspection, members, member, dots).
constexpr int kNestingLimit = 16;
constexpr std::uint64_t kMinTraversalLimitWords = 1024;
// Bounds on lists a decoder accepts (the frame size bounds them too; these keep copies small).
constexpr std::size_t kMaxListElements = 1u << 20;

capnp::Data::Reader as_data(std::string_view bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

std::string to_string(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

std::string to_string(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

tl::unexpected<Error> protocol_error(std::string message) { return fail(ErrorCode::kProtocol, std::move(message)); }

template <typename List>
Status check_length(const List& list, const char* what) {
  if (list.size() > kMaxListElements) {
    return protocol_error(std::string(what) + " lists " + std::to_string(list.size()) + " elements, over the limit of " +
                          std::to_string(kMaxListElements));
  }
  return ok();
}

std::string frame(codec::FrameType type, capnp::MessageBuilder& message) {
  const std::size_t payload_bytes = capnp::computeSerializedSizeInWords(message) * sizeof(capnp::word);
  codec::FrameHeader header;
  header.type = type;
  header.payload_length = static_cast<std::uint32_t>(payload_bytes);
  std::string bytes = codec::encode_frame_header(header);
  bytes.resize(codec::kFrameHeaderBytes + payload_bytes);
  kj::ArrayOutputStream out(
      kj::arrayPtr(reinterpret_cast<kj::byte*>(bytes.data() + codec::kFrameHeaderBytes), payload_bytes));
  capnp::writeMessage(out, message);
  return bytes;
}

codec::MessageLimits limits_for(std::string_view payload) {
  return codec::MessageLimits{
      std::max<std::uint64_t>(2 * (payload.size() / sizeof(capnp::word)), kMinTraversalLimitWords), kNestingLimit};
}

// ---- Requests ----

void write_members(capnp::List<capnp::Data>::Builder out, const std::vector<std::string>& members) {
  for (unsigned i = 0; i < members.size(); ++i) out.set(i, as_data(members[i]));
}

struct OpWriter {
  schema::Request::Op::Builder op;

  void key_members(schema::KeyMembers::Builder out, const std::string& key, const std::vector<std::string>& members) {
    out.setKey(as_data(key));
    write_members(out.initMembers(static_cast<unsigned>(members.size())), members);
  }
  void key_amount(schema::KeyAmount::Builder out, const std::string& key, std::uint64_t amount) {
    out.setKey(as_data(key));
    out.setAmount(amount);
  }

  void operator()(const Put& r) {
    auto out = op.initPut();
    out.setKey(as_data(r.key));
    out.setValue(as_data(r.value));
  }
  void operator()(const Get& r) { op.setGet(as_data(r.key)); }
  void operator()(const Del& r) { op.setDel(as_data(r.key)); }
  void operator()(const Sadd& r) { key_members(op.initSadd(), r.key, r.members); }
  void operator()(const Srem& r) { key_members(op.initSrem(), r.key, r.members); }
  void operator()(const Sismember& r) {
    auto out = op.initSismember();
    out.setKey(as_data(r.key));
    out.setMember(as_data(r.member));
  }
  void operator()(const Smembers& r) { op.setSmembers(as_data(r.key)); }
  void operator()(const Incr& r) { key_amount(op.initIncr(), r.key, r.amount); }
  void operator()(const Decr& r) { key_amount(op.initDecr(), r.key, r.amount); }
  void operator()(const CounterGet& r) { op.setCounter(as_data(r.key)); }
  void operator()(const KindGet& r) { op.setKind(as_data(r.key)); }
  void operator()(const Scan& r) { op.setScan(as_data(r.prefix)); }
  void operator()(const Inspect& r) { op.setInspect(as_data(r.key)); }
  void operator()(const StatusGet&) { op.setStatus(); }
  void operator()(const StatsGet&) { op.setStats(); }
  void operator()(const Watch& r) {
    if (!r.resume) return op.setWatch(as_data(r.prefix));
    auto from = op.initWatchFrom();
    from.setPrefix(as_data(r.prefix));
    from.setPosition(as_data(r.position));
  }
  void operator()(const Cancel& r) { op.setCancel(r.target); }
  void operator()(const Auth& r) { op.setAuth(as_data(r.token)); }
  void operator()(const Retire& r) { op.setRetire(r.replica); }
  void operator()(const Backup&) { op.setBackup(); }
};

Result<std::vector<std::string>> read_members(capnp::List<capnp::Data>::Reader in) {
  if (in.size() > kMaxMembersPerRequest) {
    return protocol_error("request carries " + std::to_string(in.size()) + " members, over the limit of " +
                          std::to_string(kMaxMembersPerRequest));
  }
  std::vector<std::string> members;
  members.reserve(in.size());
  for (const auto member : in) members.push_back(to_string(member));
  return members;
}

template <typename Op>
Result<Op> read_key_members(schema::KeyMembers::Reader in) {
  auto members = read_members(in.getMembers());
  if (!members) return tl::unexpected(members.error());
  return Op{to_string(in.getKey()), std::move(*members)};
}

template <typename Op>
Op read_key_amount(schema::KeyAmount::Reader in) {
  return Op{to_string(in.getKey()), in.getAmount()};
}

Result<Op> read_op(schema::Request::Op::Reader in) {
  using R = schema::Request::Op;
  switch (in.which()) {
    case R::PUT: {
      const auto put = in.getPut();
      return Put{to_string(put.getKey()), to_string(put.getValue())};
    }
    case R::GET: return Get{to_string(in.getGet())};
    case R::DEL: return Del{to_string(in.getDel())};
    case R::SADD: return read_key_members<Sadd>(in.getSadd());
    case R::SREM: return read_key_members<Srem>(in.getSrem());
    case R::SISMEMBER: {
      const auto request = in.getSismember();
      return Sismember{to_string(request.getKey()), to_string(request.getMember())};
    }
    case R::SMEMBERS: return Smembers{to_string(in.getSmembers())};
    case R::INCR: return read_key_amount<Incr>(in.getIncr());
    case R::DECR: return read_key_amount<Decr>(in.getDecr());
    case R::COUNTER: return CounterGet{to_string(in.getCounter())};
    case R::KIND: return KindGet{to_string(in.getKind())};
    case R::SCAN: return Scan{to_string(in.getScan())};
    case R::INSPECT: return Inspect{to_string(in.getInspect())};
    case R::STATUS: return StatusGet{};
    case R::STATS: return StatsGet{};
    case R::WATCH: return Watch{to_string(in.getWatch()), false, {}};
    case R::WATCH_FROM: {
      const auto from = in.getWatchFrom();
      return Watch{to_string(from.getPrefix()), true, to_string(from.getPosition())};
    }
    case R::CANCEL: return Cancel{in.getCancel()};
    case R::AUTH: return Auth{to_string(in.getAuth())};
    case R::RETIRE: return Retire{in.getRetire()};
    case R::BACKUP: return Backup{};
  }
  return fail(ErrorCode::kUnsupported, "request kind " + std::to_string(static_cast<unsigned>(in.which())) +
                                           " is unknown to this peer (sent by a newer client?)");
}

// ---- Responses ----

schema::ValueKind to_schema(ValueKind kind) {
  switch (kind) {
    case ValueKind::kRegister: return schema::ValueKind::REGISTER;
    case ValueKind::kSet: return schema::ValueKind::SET;
    case ValueKind::kCounter: return schema::ValueKind::COUNTER;
  }
  return schema::ValueKind::REGISTER;
}

Result<ValueKind> from_schema(schema::ValueKind kind) {
  switch (kind) {
    case schema::ValueKind::REGISTER: return ValueKind::kRegister;
    case schema::ValueKind::SET: return ValueKind::kSet;
    case schema::ValueKind::COUNTER: return ValueKind::kCounter;
  }
  return protocol_error("unknown value kind " + std::to_string(static_cast<unsigned>(kind)));
}

void write_dot(schema::Dot::Builder out, const InspectedDot& dot) {
  out.setReplica(dot.replica);
  out.setCounter(dot.counter);
}

InspectedDot read_dot(schema::Dot::Reader in) { return InspectedDot{in.getReplica(), in.getCounter()}; }

void write_dots(capnp::List<schema::Dot>::Builder out, const std::vector<InspectedDot>& dots) {
  for (unsigned i = 0; i < dots.size(); ++i) write_dot(out[i], dots[i]);
}

Result<std::vector<InspectedDot>> read_dots(capnp::List<schema::Dot>::Reader in) {
  if (auto length = check_length(in, "dot list"); !length) return tl::unexpected(length.error());
  std::vector<InspectedDot> dots;
  dots.reserve(in.size());
  for (const auto dot : in) dots.push_back(read_dot(dot));
  return dots;
}

template <typename Out, typename In, typename Read>
Status read_list(std::vector<Out>& out, In in, const char* what, Read&& read) {
  if (auto length = check_length(in, what); !length) return length;
  out.reserve(in.size());
  for (const auto element : in) {
    auto value = read(element);
    if (!value) return tl::unexpected(value.error());
    out.push_back(std::move(*value));
  }
  return ok();
}

template <typename T>
Result<T> as_result(T value) {
  return value;
}

void write_u64s(capnp::List<std::uint64_t>::Builder out, const std::vector<std::uint64_t>& values) {
  for (unsigned i = 0; i < values.size(); ++i) out.set(i, values[i]);
}

void write_inspection(schema::KeyInspection::Builder out, const KeyInspection& in) {
  out.setKey(as_data(in.key));
  out.setKind(to_schema(in.kind));
  auto kinds = out.initKinds(static_cast<unsigned>(in.kinds.size()));
  for (unsigned i = 0; i < in.kinds.size(); ++i) kinds.set(i, to_schema(in.kinds[i]));
  auto versions = out.initVersions(static_cast<unsigned>(in.versions.size()));
  for (unsigned i = 0; i < in.versions.size(); ++i) {
    write_dot(versions[i].initDot(), in.versions[i].dot);
    versions[i].setHlcWallMs(in.versions[i].hlc_wall_ms);
    versions[i].setHlcLogical(in.versions[i].hlc_logical);
    versions[i].setValue(as_data(in.versions[i].value));
  }
  out.setWritingReplica(in.writing_replica);
  out.setCounterValue(in.counter_value);
  out.setCounterOutOfRange(in.counter_out_of_range);
  auto parts = out.initCounterParts(static_cast<unsigned>(in.counter_parts.size()));
  for (unsigned i = 0; i < in.counter_parts.size(); ++i) {
    const CounterPart& part = in.counter_parts[i];
    write_dot(parts[i].initDot(), part.dot);
    parts[i].setReset(part.reset);
    parts[i].setContributor(part.contributor);
    write_dot(parts[i].initChain(), part.chain);
    parts[i].setIncrements(part.increments);
    parts[i].setDecrements(part.decrements);
    parts[i].setDeletedIncrements(part.deleted_increments);
    parts[i].setDeletedDecrements(part.deleted_decrements);
    write_dot(parts[i].initObserved(), part.observed);
  }
  out.setMemberCount(in.member_count);
  out.setMemberCountCapped(in.member_count_capped);
  auto members = out.initMembers(static_cast<unsigned>(in.members.size()));
  for (unsigned i = 0; i < in.members.size(); ++i) {
    members[i].setMember(as_data(in.members[i].member));
    write_dots(members[i].initDots(static_cast<unsigned>(in.members[i].dots.size())), in.members[i].dots);
  }
  auto vector = out.initVersionVector(static_cast<unsigned>(in.version_vector.size()));
  for (unsigned i = 0; i < in.version_vector.size(); ++i) {
    vector[i].setReplica(in.version_vector[i].first);
    vector[i].setCounter(in.version_vector[i].second);
  }
  write_dots(out.initDotsOutsideVector(static_cast<unsigned>(in.dots_outside_vector.size())), in.dots_outside_vector);
}

Result<KeyInspection> read_inspection(schema::KeyInspection::Reader in) {
  KeyInspection out;
  out.key = to_string(in.getKey());
  auto kind = from_schema(in.getKind());
  if (!kind) return tl::unexpected(kind.error());
  out.kind = *kind;
  if (auto kinds = read_list(out.kinds, in.getKinds(), "kinds", from_schema); !kinds) return tl::unexpected(kinds.error());
  auto versions = read_list(out.versions, in.getVersions(), "versions", [](schema::RegisterVersion::Reader v) {
    return as_result(RegisterVersion{read_dot(v.getDot()), v.getHlcWallMs(), v.getHlcLogical(), to_string(v.getValue())});
  });
  if (!versions) return tl::unexpected(versions.error());
  out.writing_replica = in.getWritingReplica();
  out.counter_value = in.getCounterValue();
  out.counter_out_of_range = in.getCounterOutOfRange();
  auto parts = read_list(out.counter_parts, in.getCounterParts(), "counter parts", [](schema::CounterPart::Reader p) {
    CounterPart part;
    part.dot = read_dot(p.getDot());
    part.reset = p.getReset();
    part.contributor = p.getContributor();
    part.chain = read_dot(p.getChain());
    part.increments = p.getIncrements();
    part.decrements = p.getDecrements();
    part.deleted_increments = p.getDeletedIncrements();
    part.deleted_decrements = p.getDeletedDecrements();
    part.observed = read_dot(p.getObserved());
    return as_result(part);
  });
  if (!parts) return tl::unexpected(parts.error());
  out.member_count = in.getMemberCount();
  out.member_count_capped = in.getMemberCountCapped();
  auto members = read_list(out.members, in.getMembers(), "members",
                           [](schema::InspectedMember::Reader m) -> Result<InspectedMember> {
                             auto dots = read_dots(m.getDots());
                             if (!dots) return tl::unexpected(dots.error());
                             return InspectedMember{to_string(m.getMember()), std::move(*dots)};
                           });
  if (!members) return tl::unexpected(members.error());
  auto vector = read_list(out.version_vector, in.getVersionVector(), "version vector",
                          [](schema::VersionVectorEntry::Reader e) {
                            return as_result(std::pair<std::uint64_t, std::uint64_t>(e.getReplica(), e.getCounter()));
                          });
  if (!vector) return tl::unexpected(vector.error());
  auto outside = read_dots(in.getDotsOutsideVector());
  if (!outside) return tl::unexpected(outside.error());
  out.dots_outside_vector = std::move(*outside);
  return out;
}

void write_texts(capnp::List<capnp::Text>::Builder out, const std::vector<std::string>& texts) {
  for (unsigned i = 0; i < texts.size(); ++i) out.set(i, texts[i]);
}

Result<std::string> read_text(capnp::Text::Reader text) { return to_string(text); }

void write_status(schema::NodeStatus::Builder out, const NodeStatus& in) {
  out.setReplicaId(in.replica_id);
  out.setGossipPort(in.gossip_port);
  out.setAddress(in.address);
  out.setIncarnation(in.incarnation);
  auto members = out.initMembers(static_cast<unsigned>(in.members.size()));
  for (unsigned i = 0; i < in.members.size(); ++i) {
    const NodeStatus::Member& member = in.members[i];
    members[i].setId(member.id);
    members[i].setAddress(member.address);
    members[i].setState(member.state);
    members[i].setIncarnation(member.incarnation);
    members[i].setLastHeardMsAgo(member.last_heard_ms_ago);
    members[i].setNeighbour(member.neighbour);
    members[i].setLagEntries(member.lag_entries);
    write_u64s(members[i].initRingPositions(static_cast<unsigned>(member.ring_positions.size())),
               member.ring_positions);
  }
  write_u64s(out.initNeighbours(static_cast<unsigned>(in.neighbours.size())), in.neighbours);
  write_u64s(out.initRingPositions(static_cast<unsigned>(in.ring_positions.size())), in.ring_positions);
  out.setFramesDropped(in.frames_dropped);
  auto pending = out.initPendingRetirements(static_cast<unsigned>(in.pending_retirements.size()));
  for (unsigned i = 0; i < in.pending_retirements.size(); ++i) {
    const NodeStatus::PendingRetirement& retirement = in.pending_retirements[i];
    pending[i].setReplica(retirement.replica);
    pending[i].setProposedMsAgo(retirement.proposed_ms_ago);
    pending[i].setByOperator(retirement.by_operator);
    write_u64s(pending[i].initWaitingFor(static_cast<unsigned>(retirement.waiting_for.size())), retirement.waiting_for);
  }
  write_texts(out.initSeeds(static_cast<unsigned>(in.seeds.size())), in.seeds);
  out.setIsolated(in.isolated);
  out.setIsolatedMs(in.isolated_ms);
  out.setHealth(in.health);
  write_texts(out.initHealthReasons(static_cast<unsigned>(in.health_reasons.size())), in.health_reasons);
}

Result<std::uint64_t> read_u64(std::uint64_t value) { return value; }

Result<NodeStatus> read_status(schema::NodeStatus::Reader in) {
  NodeStatus out;
  out.replica_id = in.getReplicaId();
  out.gossip_port = in.getGossipPort();
  out.address = to_string(in.getAddress());
  out.incarnation = in.getIncarnation();
  auto members = read_list(out.members, in.getMembers(), "members", [](schema::Member::Reader m) -> Result<NodeStatus::Member> {
    NodeStatus::Member member;
    member.id = m.getId();
    member.address = to_string(m.getAddress());
    member.state = to_string(m.getState());
    member.incarnation = m.getIncarnation();
    member.last_heard_ms_ago = m.getLastHeardMsAgo();
    member.neighbour = m.getNeighbour();
    member.lag_entries = m.getLagEntries();
    if (auto positions = read_list(member.ring_positions, m.getRingPositions(), "ring positions", read_u64); !positions)
      return tl::unexpected(positions.error());
    return member;
  });
  if (!members) return tl::unexpected(members.error());
  if (auto neighbours = read_list(out.neighbours, in.getNeighbours(), "neighbours", read_u64); !neighbours)
    return tl::unexpected(neighbours.error());
  if (auto positions = read_list(out.ring_positions, in.getRingPositions(), "ring positions", read_u64); !positions)
    return tl::unexpected(positions.error());
  out.frames_dropped = in.getFramesDropped();
  auto pending = read_list(out.pending_retirements, in.getPendingRetirements(), "pending retirements",
                           [](schema::PendingRetirement::Reader p) -> Result<NodeStatus::PendingRetirement> {
                             NodeStatus::PendingRetirement retirement;
                             retirement.replica = p.getReplica();
                             retirement.proposed_ms_ago = p.getProposedMsAgo();
                             retirement.by_operator = p.getByOperator();
                             if (auto waiting = read_list(retirement.waiting_for, p.getWaitingFor(), "waiting for", read_u64);
                                 !waiting) {
                               return tl::unexpected(waiting.error());
                             }
                             return retirement;
                           });
  if (!pending) return tl::unexpected(pending.error());
  if (auto seeds = read_list(out.seeds, in.getSeeds(), "seeds", read_text); !seeds) return tl::unexpected(seeds.error());
  out.isolated = in.getIsolated();
  out.isolated_ms = in.getIsolatedMs();
  out.health = in.hasHealth() ? to_string(in.getHealth()) : "ok";  // A peer from before health said nothing.
  if (auto reasons = read_list(out.health_reasons, in.getHealthReasons(), "health reasons", read_text); !reasons)
    return tl::unexpected(reasons.error());
  return out;
}

void write_samples(capnp::List<schema::MetricSample>::Builder out, const std::vector<MetricSample>& samples) {
  for (unsigned i = 0; i < samples.size(); ++i) {
    const MetricSample& sample = samples[i];
    out[i].setName(sample.name);
    out[i].setHelp(sample.help);
    out[i].setGauge(sample.type == MetricType::kGauge);
    auto labels = out[i].initLabels(static_cast<unsigned>(sample.labels.size()));
    for (unsigned j = 0; j < sample.labels.size(); ++j) {
      labels[j].setName(sample.labels[j].first);
      labels[j].setValue(sample.labels[j].second);
    }
    out[i].setValue(sample.value);
  }
}

Result<MetricSample> read_sample(schema::MetricSample::Reader in) {
  MetricSample sample;
  sample.name = to_string(in.getName());
  sample.help = to_string(in.getHelp());
  sample.type = in.getGauge() ? MetricType::kGauge : MetricType::kCounter;
  auto labels = read_list(sample.labels, in.getLabels(), "labels", [](schema::Label::Reader label) {
    return as_result(std::pair<std::string, std::string>(to_string(label.getName()), to_string(label.getValue())));
  });
  if (!labels) return tl::unexpected(labels.error());
  sample.value = in.getValue();
  return sample;
}

struct BodyWriter {
  schema::Response::Body::Builder body;

  void operator()(const Error& error) {
    auto out = body.initError();
    out.setCode(static_cast<std::uint8_t>(error.code()));
    out.setMessage(error.message());
  }
  void operator()(const Done&) { body.setDone(); }
  void operator()(const RegisterValue& value) {
    auto out = body.initValue();
    out.setValue(as_data(value.value));
    write_members(out.initConcurrent(static_cast<unsigned>(value.concurrent.size())), value.concurrent);
  }
  void operator()(const IsMember& value) { body.setIsMember(value.value); }
  void operator()(const CounterValue& value) { body.setCounter(value.value); }
  void operator()(const ValueKind& kind) { body.setKind(to_schema(kind)); }
  void operator()(const Items& items) {
    write_members(body.initItems(static_cast<unsigned>(items.items.size())), items.items);
  }
  void operator()(const KeyInspection& inspection) { write_inspection(body.initInspection(), inspection); }
  void operator()(const NodeStatus& status) { write_status(body.initStatus(), status); }
  void operator()(const Stats& stats) {
    write_samples(body.initStats(static_cast<unsigned>(stats.samples.size())), stats.samples);
  }
  void operator()(const Events& events) {
    auto out = body.initEvents(static_cast<unsigned>(events.events.size()));
    for (unsigned i = 0; i < events.events.size(); ++i) {
      const WatchEvent& event = events.events[i];
      out[i].setKey(as_data(event.key));
      out[i].setKind(to_schema(event.kind));
      out[i].setLocal(event.local);
      out[i].setDeleted(event.deleted);
      if (event.op) out[i].setOp(static_cast<schema::ChangeOp>(static_cast<std::uint16_t>(*event.op)));
      out[i].setMember(as_data(event.member));
      out[i].setValue(as_data(event.value));
      out[i].setPosition(as_data(event.position));
    }
  }
};

Result<std::string> read_data(capnp::Data::Reader data) { return to_string(data); }

Result<Body> read_body(schema::Response::Body::Reader in) {
  using B = schema::Response::Body;
  switch (in.which()) {
    case B::ERROR: {
      const auto error = in.getError();
      const unsigned code = error.getCode();
      // kOutcomeUnknown is the client library's own verdict about a missing reply: no peer sends it.
      if (code < static_cast<unsigned>(ErrorCode::kNotFound) || code > static_cast<unsigned>(ErrorCode::kPositionExpired) ||
          code == static_cast<unsigned>(ErrorCode::kOutcomeUnknown)) {
        return protocol_error("error reply with unknown code " + std::to_string(code));
      }
      return Body(Error(static_cast<ErrorCode>(code), to_string(error.getMessage())));
    }
    case B::DONE: return Body(Done{});
    case B::VALUE: {
      const auto value = in.getValue();
      RegisterValue out{to_string(value.getValue()), {}};
      if (auto concurrent = read_list(out.concurrent, value.getConcurrent(), "concurrent values", read_data); !concurrent)
        return tl::unexpected(concurrent.error());
      return Body(std::move(out));
    }
    case B::IS_MEMBER: return Body(IsMember{in.getIsMember()});
    case B::COUNTER: return Body(CounterValue{in.getCounter()});
    case B::KIND: {
      auto kind = from_schema(in.getKind());
      if (!kind) return tl::unexpected(kind.error());
      return Body(*kind);
    }
    case B::ITEMS: {
      Items items;
      if (auto read = read_list(items.items, in.getItems(), "items", read_data); !read) return tl::unexpected(read.error());
      return Body(std::move(items));
    }
    case B::INSPECTION: {
      auto inspection = read_inspection(in.getInspection());
      if (!inspection) return tl::unexpected(inspection.error());
      return Body(std::move(*inspection));
    }
    case B::STATUS: {
      auto status = read_status(in.getStatus());
      if (!status) return tl::unexpected(status.error());
      return Body(std::move(*status));
    }
    case B::STATS: {
      Stats stats;
      if (auto read = read_list(stats.samples, in.getStats(), "stats", read_sample); !read)
        return tl::unexpected(read.error());
      return Body(std::move(stats));
    }
    case B::EVENTS: {
      Events events;
      auto read = read_list(events.events, in.getEvents(), "events", [](schema::WatchEvent::Reader e) -> Result<WatchEvent> {
        auto kind = from_schema(e.getKind());
        if (!kind) return tl::unexpected(kind.error());
        WatchEvent event{to_string(e.getKey()), *kind, e.getLocal(), e.getDeleted()};
        const auto op = static_cast<unsigned>(e.getOp());
        if (op > static_cast<unsigned>(ChangeOp::kCounter)) return protocol_error("watch event with unknown operation");
        if (op != 0) event.op = static_cast<ChangeOp>(op);  // 0: a peer from before the change feed.
        event.member = to_string(e.getMember());
        event.value = to_string(e.getValue());
        event.position = to_string(e.getPosition());
        return event;
      });
      if (!read) return tl::unexpected(read.error());
      return Body(std::move(events));
    }
  }
  return protocol_error("response kind " + std::to_string(static_cast<unsigned>(in.which())) +
                        " is unknown to this client (sent by a newer peer?)");
}

}  // namespace

const std::vector<std::string_view>& op_names() {
  static const std::vector<std::string_view> names = {
      "put", "get", "del", "sadd", "srem", "sismember", "smembers", "incr", "decr", "counter", "kind", "scan",
      "inspect", "status", "stats", "watch", "cancel", "auth", "retire", "backup"};
  return names;
}

std::string_view op_name(const Op& op) {
  static_assert(std::variant_size_v<Op> == 20);
  return op_names()[op.index()];
}

std::string encode_request_frame(const Request& request) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Request>();
  root.setId(request.id);
  std::visit(OpWriter{root.initOp()}, request.op);
  return frame(codec::FrameType::kClientRequest, message);
}

std::string encode_response_frame(const Response& response) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Response>();
  root.setId(response.id);
  root.setMore(response.more);
  std::visit(BodyWriter{root.initBody()}, response.body);
  return frame(codec::FrameType::kClientResponse, message);
}

Result<Request> decode_request(std::string_view payload, std::uint64_t* id_out) {
  return codec::read_untrusted_message<schema::Request>(
      payload, limits_for(payload), ErrorCode::kProtocol, "request",
      [&](schema::Request::Reader root) -> Result<Request> {
        if (id_out != nullptr) *id_out = root.getId();
        auto op = read_op(root.getOp());
        if (!op) return tl::unexpected(op.error());
        return Request{root.getId(), std::move(*op)};
      });
}

Result<Response> decode_response(std::string_view payload) {
  return codec::read_untrusted_message<schema::Response>(
      payload, limits_for(payload), ErrorCode::kProtocol, "response",
      [](schema::Response::Reader root) -> Result<Response> {
        auto body = read_body(root.getBody());
        if (!body) return tl::unexpected(body.error());
        return Response{root.getId(), root.getMore(), std::move(*body)};
      });
}

}  // namespace cairn::protocol
