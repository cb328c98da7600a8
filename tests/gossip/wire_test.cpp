#include "gossip/wire.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/property.h"

namespace cairn::gossip {
namespace {

// ---- Envelopes. ----

Endpoint endpoint(std::string host, std::uint16_t port) { return Endpoint{std::move(host), port}; }

MemberUpdate update(std::uint64_t id, MemberStatus status, std::uint64_t incarnation) {
  return MemberUpdate{PeerId{id}, endpoint("10.99.0." + std::to_string(id % 250), 7946), status, incarnation};
}

Envelope envelope_with(Body body) {
  Envelope envelope;
  envelope.cluster_id = cluster_id_of("test-cluster");
  envelope.sender = PeerId{0x1122334455667788ULL};
  envelope.sender_endpoint = endpoint("peer-a.example", 7946);
  envelope.body = std::move(body);
  return envelope;
}

// Decodes `frame`, requiring success, and returns the envelope.
Envelope decoded(std::string_view frame) {
  const DecodeResult result = decode_peer_frame(frame);
  INFO("error " << to_string(result.error) << ": " << result.detail);
  REQUIRE(result.ok);
  return result.envelope;
}

// Decodes `frame`, requiring it to be dropped with `error`, and returns the detail.
std::string rejected(std::string_view frame, FrameError error,
                     std::size_t max_payload_bytes = kMaxFramePayloadBytes) {
  const DecodeResult result = decode_peer_frame(frame, max_payload_bytes);
  INFO("detail: " << result.detail);
  REQUIRE_FALSE(result.ok);
  CHECK(to_string(result.error) == to_string(error));
  CHECK_FALSE(result.detail.empty());
  return result.detail;
}

void check_round_trip(const Envelope& envelope) {
  REQUIRE(validate_envelope(envelope));
  const std::string frame = encode_peer_frame(envelope);
  CHECK(decoded(frame) == envelope);
  CHECK(encode_peer_frame(envelope) == frame);  // Deterministic.
}

// A frame header as raw bytes, with each field settable.
std::string header_bytes(std::uint32_t payload_length, std::uint8_t version = kProtocolVersion,
                         std::uint8_t type = 1, std::string_view magic = "CAIR") {
  std::string bytes(kFrameHeaderBytes, '\0');
  std::memcpy(bytes.data(), magic.data(), 4);
  bytes[4] = static_cast<char>(version);
  bytes[5] = static_cast<char>(type);
  for (int i = 0; i < 4; ++i)
    bytes[36 + static_cast<std::size_t>(i)] = static_cast<char>(payload_length >> (24 - 8 * i));
  return bytes;
}

// ---- Random envelopes. ----

std::string random_bytes(Rng& rng, std::uint64_t max_length) {
  std::string out(rng.below(max_length + 1), '\0');
  for (char& c : out) c = static_cast<char>(rng.below(256));
  return out;
}

std::uint64_t random_u64(Rng& rng) {
  if (rng.chance(1, 8)) return rng.chance(1, 2) ? 0 : UINT64_MAX;
  return rng.chance(1, 2) ? rng.below(100) : rng.next();
}

Endpoint random_endpoint(Rng& rng) {
  static constexpr std::string_view kHosts[] = {"127.0.0.1", "10.99.1.2", "::1", "peer-b.example",
                                                "localhost"};
  std::string host;
  if (rng.chance(1, 2)) {
    host = std::string(kHosts[rng.below(std::size(kHosts))]);
  } else {
    host.resize(1 + rng.below(rng.chance(1, 10) ? kMaxHostBytes : 40));
    for (char& c : host) c = static_cast<char>(1 + rng.below(255));  // Any byte but NUL.
  }
  const auto port = static_cast<std::uint16_t>(rng.chance(1, 8) ? 65535 : 1 + rng.below(65535));
  return Endpoint{std::move(host), port};
}

std::vector<MemberUpdate> random_updates(Rng& rng) {
  std::vector<MemberUpdate> updates(rng.chance(1, 10) ? kMaxUpdatesPerMessage : rng.below(6));
  for (MemberUpdate& u : updates) {
    u = MemberUpdate{PeerId{random_u64(rng)}, random_endpoint(rng), static_cast<MemberStatus>(rng.below(4)),
                     random_u64(rng)};
  }
  return updates;
}

Body random_body(Rng& rng) {
  switch (rng.below(7)) {
    case 0:
      return Ping{random_u64(rng), random_updates(rng)};
    case 1:
      return PingAck{random_u64(rng), random_updates(rng)};
    case 2:
      return PingRequest{random_u64(rng), PeerId{random_u64(rng)}, random_endpoint(rng), random_updates(rng)};
    case 3: {
      DeltaPush push;
      std::uint64_t sequence = rng.below(1000);
      for (std::uint64_t i = rng.below(8); i > 0; --i) {
        push.entries.push_back(DeltaPush::Entry{sequence, random_bytes(rng, rng.chance(1, 10) ? 5000 : 60)});
        sequence += 1 + (rng.chance(1, 4) ? rng.below(1000) : 0);
      }
      return push;
    }
    case 4: {
      ContextReport report;
      std::uint64_t replica = 0;
      for (std::uint64_t i = rng.below(20); i > 0 && replica < UINT64_MAX - 1000; --i) {
        replica += 1 + rng.below(1000);
        report.vector.push_back(VectorEntry{PeerId{replica}, 1 + rng.below(1u << 20)});
      }
      replica = 0;
      for (std::uint64_t i = rng.below(4); i > 0; --i) {
        replica += 1 + rng.below(1000);
        report.retirements.push_back(RetiredReplica{PeerId{replica}, random_u64(rng)});
      }
      report.reply_wanted = rng.chance(1, 2);
      return report;
    }
    case 5:
      return RetiredNotice{PeerId{random_u64(rng)}, random_u64(rng)};
    default:
      return DeltaAck{random_u64(rng)};
  }
}

Envelope random_envelope(Rng& rng) {
  Envelope envelope;
  envelope.cluster_id = random_u64(rng);
  envelope.sender = PeerId{random_u64(rng)};
  envelope.sender_endpoint = random_endpoint(rng);
  envelope.body = random_body(rng);
  return envelope;
}

// ---- Round trips. ----

TEST_CASE("wire: every body type round-trips", "[wire]") {
  SECTION("ping") {
    check_round_trip(
        envelope_with(Ping{42, {update(1, MemberStatus::kAlive, 3), update(2, MemberStatus::kLeft, 0)}}));
  }
  SECTION("ping without updates") { check_round_trip(envelope_with(Ping{0, {}})); }
  SECTION("ping ack") {
    check_round_trip(envelope_with(PingAck{UINT64_MAX, {update(3, MemberStatus::kSuspect, UINT64_MAX)}}));
  }
  SECTION("ping request") {
    check_round_trip(envelope_with(
        PingRequest{7, PeerId{99}, endpoint("10.99.0.9", 65535), {update(4, MemberStatus::kDead, 12)}}));
  }
  SECTION("delta push") {
    DeltaPush push;
    push.entries.push_back({1, std::string("\x00\x01\xff group one", 14)});
    push.entries.push_back({2, ""});
    push.entries.push_back({1000, std::string(4097, 'x')});
    check_round_trip(envelope_with(push));
  }
  SECTION("empty delta push") { check_round_trip(envelope_with(DeltaPush{})); }
  SECTION("delta ack") { check_round_trip(envelope_with(DeltaAck{123456789})); }
  SECTION("context report") {
    check_round_trip(envelope_with(ContextReport{{{PeerId{3}, 7}, {PeerId{UINT64_MAX}, UINT64_MAX}},
                                                 {{PeerId{5}, 0}, {PeerId{9}, 120}},
                                                 {{PeerId{3}, 9}, {PeerId{8}, 2}}}));
  }
  SECTION("empty context report") { check_round_trip(envelope_with(ContextReport{})); }
  SECTION("context report asking for a reply") {
    ContextReport report{{{PeerId{3}, 7}}, {}, {}};
    report.reply_wanted = true;
    check_round_trip(envelope_with(report));
  }
  SECTION("tree level reply declining the round") {
    TreeLevel busy{77, true, 1, {0}, {}, {}};
    busy.busy = true;
    check_round_trip(envelope_with(busy));
  }
  SECTION("retired notice") { check_round_trip(envelope_with(RetiredNotice{PeerId{0xabc}, 41})); }
}

TEST_CASE("wire: a context report must list replicas strictly ascending, none 0, counters above 0", "[wire]") {
  const auto refused = [](ContextReport report) {
    const Envelope envelope = envelope_with(std::move(report));
    CHECK_FALSE(validate_envelope(envelope));
    rejected(encode_peer_frame(envelope), FrameError::kUndecodable);
  };
  refused(ContextReport{{{PeerId{4}, 1}, {PeerId{4}, 2}}, {}, {}});
  refused(ContextReport{{{PeerId{5}, 1}, {PeerId{4}, 2}}, {}, {}});
  refused(ContextReport{{{PeerId{0}, 1}}, {}, {}});
  refused(ContextReport{{{PeerId{4}, 0}}, {}, {}});
  refused(ContextReport{{}, {{PeerId{8}, 1}, {PeerId{2}, 1}}, {}});
  refused(ContextReport{{}, {{PeerId{0}, 1}}, {}});
  refused(ContextReport{{}, {}, {{PeerId{6}, 1}, {PeerId{6}, 2}}});
  refused(ContextReport{{}, {}, {{PeerId{6}, 0}}});
}

TEST_CASE("wire: a context report with more than kMaxReportEntries entries is rejected", "[wire]") {
  ContextReport report;
  for (std::uint64_t i = 1; i <= kMaxReportEntries + 1; ++i) report.vector.push_back({PeerId{i}, 1});
  const Envelope envelope = envelope_with(std::move(report));
  CHECK_FALSE(validate_envelope(envelope));
  rejected(encode_peer_frame(envelope), FrameError::kUndecodable);
}

TEST_CASE("wire: a ping with the most updates allowed round-trips", "[wire]") {
  std::vector<MemberUpdate> updates;
  for (std::uint64_t i = 0; i < kMaxUpdatesPerMessage; ++i)
    updates.push_back(update(i, MemberStatus::kAlive, i));
  check_round_trip(envelope_with(Ping{1, updates}));
}

TEST_CASE("wire: a DeltaPush carrying a 16 MiB delta-group round-trips", "[wire]") {
  // The store accepts 16 MiB values; a delta-group holding one must replicate in one frame.
  std::string group(16u << 20, '\0');
  for (std::size_t i = 0; i < group.size(); ++i) group[i] = static_cast<char>(i * 131 + (i >> 12));
  DeltaPush push;
  push.entries.push_back({41, "small"});
  push.entries.push_back({42, group});
  const Envelope envelope = envelope_with(push);
  const std::string frame = encode_peer_frame(envelope);
  CHECK(frame.size() > group.size());
  CHECK(frame.size() - kFrameHeaderBytes <= kMaxFramePayloadBytes);
  CHECK(decoded(frame) == envelope);
}

TEST_CASE("wire: frames decode at any alignment", "[wire]") {
  const std::string frame = encode_peer_frame(envelope_with(Ping{5, {update(1, MemberStatus::kAlive, 1)}}));
  for (std::size_t offset = 0; offset < 8; ++offset) {
    std::vector<std::uint64_t> storage(frame.size() / 8 + 2);
    char* start = reinterpret_cast<char*>(storage.data()) + offset;
    std::memcpy(start, frame.data(), frame.size());
    CHECK(decoded(std::string_view(start, frame.size())) == decoded(frame));
  }
}

TEST_CASE("wire: random envelopes round-trip", "[wire][property]") {
  test::for_each_history("wire envelopes round-trip", 500, [](Rng& rng) {
    const Envelope envelope = random_envelope(rng);
    check_round_trip(envelope);
  });
}

TEST_CASE("wire: corrupted frames are dropped or decode to valid envelopes", "[wire][property]") {
  // Flips a few bytes of valid frames: whatever still decodes must be valid and round-trip.
  test::for_each_history("wire corrupted frames", 500, [](Rng& rng) {
    std::string frame = encode_peer_frame(random_envelope(rng));
    for (std::uint64_t i = 1 + rng.below(4); i > 0; --i) {
      const std::size_t at = rng.chance(1, 4) ? rng.below(kFrameHeaderBytes) : rng.below(frame.size());
      frame[at] = static_cast<char>(rng.below(256));
    }
    const DecodeResult result = decode_peer_frame(frame);
    if (!result.ok) {
      CHECK_FALSE(result.detail.empty());
      return;
    }
    CHECK(validate_envelope(result.envelope));
    CHECK(decoded(encode_peer_frame(result.envelope)) == result.envelope);
  });
}

// ---- The header. ----

TEST_CASE("wire: the frame header has the documented byte layout", "[wire]") {
  FrameHeader header;
  header.version = 1;
  header.type = FrameType::kClientResponse;
  header.flags = 0x0102;
  header.key_id = 0x0A0B0C0D;
  for (std::size_t i = 0; i < header.nonce.size(); ++i) header.nonce[i] = static_cast<std::uint8_t>(0x10 + i);
  header.payload_length = 0x00ABCDEF;

  const std::string expected{
      'C',    'A',    'I',    'R',     // magic
      '\x01',                          // version
      '\x03',                          // type
      '\x01', '\x02',                  // flags, big-endian
      '\x0A', '\x0B', '\x0C', '\x0D',  // key id, big-endian
      '\x10', '\x11', '\x12', '\x13', '\x14', '\x15', '\x16', '\x17', '\x18', '\x19', '\x1A', '\x1B', '\x1C',
      '\x1D', '\x1E', '\x1F', '\x20', '\x21', '\x22', '\x23', '\x24', '\x25', '\x26', '\x27',  // nonce
      '\x00', '\xAB', '\xCD', '\xEF',  // payload length, big-endian
  };
  REQUIRE(expected.size() == kFrameHeaderBytes);
  CHECK(encode_frame_header(header) == expected);

  const HeaderResult parsed = parse_frame_header(expected);
  REQUIRE(parsed.ok);
  CHECK(parsed.header == header);
}

TEST_CASE("wire: a peer frame starts with an unsealed peer-message header", "[wire]") {
  const std::string frame = encode_peer_frame(envelope_with(DeltaAck{1}));
  REQUIRE(frame.size() > kFrameHeaderBytes);
  // "CAIR", version 1, type 1 (peer message), flags 0, key id 0, zero nonce, the payload length.
  CHECK(frame.substr(0, kFrameHeaderBytes) ==
        header_bytes(static_cast<std::uint32_t>(frame.size() - kFrameHeaderBytes)));
  CHECK((frame.size() - kFrameHeaderBytes) % 8 == 0);
  const HeaderResult parsed = parse_frame_header(frame);
  REQUIRE(parsed.ok);
  CHECK(parsed.header.type == FrameType::kPeerMessage);
  CHECK(parsed.header.key_id == 0);
  CHECK(parsed.header.payload_length == frame.size() - kFrameHeaderBytes);
}

TEST_CASE("wire: an oversized length is rejected from the header alone", "[wire]") {
  // A header claiming 1 GiB followed by nothing: the payload is never looked at (nor waited for).
  const std::string header = header_bytes(1u << 30);
  const HeaderResult parsed = parse_frame_header(header);
  CHECK_FALSE(parsed.ok);
  CHECK(parsed.error == FrameError::kOversized);
  rejected(header, FrameError::kOversized);

  SECTION("the limit is the caller's") {
    const std::string frame = encode_peer_frame(envelope_with(Ping{1, {update(1, MemberStatus::kAlive, 1)}}));
    const std::size_t payload = frame.size() - kFrameHeaderBytes;
    CHECK(parse_frame_header(frame, payload).ok);
    CHECK(parse_frame_header(frame, payload - 1).error == FrameError::kOversized);
    rejected(frame, FrameError::kOversized, payload - 1);
  }
  SECTION("one byte over the default limit") {
    CHECK(parse_frame_header(header_bytes(kMaxFramePayloadBytes)).ok);
    CHECK(parse_frame_header(header_bytes(kMaxFramePayloadBytes + 1)).error == FrameError::kOversized);
  }
}

TEST_CASE("wire: a bad magic is rejected", "[wire]") {
  std::string frame = encode_peer_frame(envelope_with(DeltaAck{1}));
  frame[3] = 'X';
  CHECK(parse_frame_header(frame).error == FrameError::kBadMagic);
  rejected(frame, FrameError::kBadMagic);
  rejected(std::string(kFrameHeaderBytes, '\0'), FrameError::kBadMagic);
  rejected(header_bytes(8, kProtocolVersion, 1, "cair"), FrameError::kBadMagic);
}

TEST_CASE("wire: another protocol version is rejected", "[wire]") {
  for (const std::uint8_t version : {0, 2, 255}) {
    std::string frame = encode_peer_frame(envelope_with(DeltaAck{1}));
    frame[4] = static_cast<char>(version);
    CHECK(parse_frame_header(frame).error == FrameError::kWrongVersion);
    rejected(frame, FrameError::kWrongVersion);
  }
}

TEST_CASE("wire: an unknown frame type is rejected", "[wire]") {
  for (const std::uint8_t type : {0, 4, 255}) {
    std::string frame = encode_peer_frame(envelope_with(DeltaAck{1}));
    frame[5] = static_cast<char>(type);
    CHECK(parse_frame_header(frame).error == FrameError::kUnknownType);
    rejected(frame, FrameError::kUnknownType);
  }
  SECTION("client frames parse but are not peer messages") {
    std::string frame = encode_peer_frame(envelope_with(DeltaAck{1}));
    frame[5] = static_cast<char>(FrameType::kClientRequest);
    CHECK(parse_frame_header(frame).ok);
    rejected(frame, FrameError::kUnknownType);
  }
}

TEST_CASE("wire: a truncated frame is rejected", "[wire]") {
  const std::string frame = encode_peer_frame(envelope_with(Ping{9, {update(1, MemberStatus::kAlive, 1)}}));
  for (std::size_t length = 0; length < frame.size(); ++length) {
    INFO("first " << length << " bytes of " << frame.size());
    if (length < kFrameHeaderBytes)
      CHECK(parse_frame_header(frame.substr(0, length)).error == FrameError::kTruncated);
    rejected(frame.substr(0, length), FrameError::kTruncated);
  }
}

TEST_CASE("wire: bytes after the announced payload are rejected as undecodable", "[wire]") {
  const std::string frame = encode_peer_frame(envelope_with(DeltaAck{1}));
  rejected(frame + '\0', FrameError::kUndecodable);
  rejected(frame + std::string(8, '\0'), FrameError::kUndecodable);
  rejected(frame + frame, FrameError::kUndecodable);
}

TEST_CASE("wire: a garbage payload is rejected as undecodable", "[wire]") {
  SECTION("random bytes") {
    test::for_each_history("wire garbage payloads", 300, [](Rng& rng) {
      std::string garbage(8 * (1 + rng.below(64)), '\0');
      for (char& c : garbage) c = static_cast<char>(rng.below(256));
      const DecodeResult result =
          decode_peer_frame(header_bytes(static_cast<std::uint32_t>(garbage.size())) + garbage);
      // Random words very rarely form a valid envelope; whatever does must be a valid one.
      if (result.ok) {
        CHECK(validate_envelope(result.envelope));
      } else {
        CHECK(result.error == FrameError::kUndecodable);
      }
    });
  }
  SECTION("an empty payload") { rejected(header_bytes(0), FrameError::kUndecodable); }
  SECTION("a payload that is not whole words") {
    rejected(header_bytes(7) + std::string(7, '\0'), FrameError::kUndecodable);
  }
  SECTION("a segment table pointing past the end") {
    // One segment of 0x100000 words, in a payload of two words.
    const std::string payload("\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00", 16);
    rejected(header_bytes(16) + payload, FrameError::kUndecodable);
  }
  SECTION("a payload with words after its message") {
    const std::string frame = encode_peer_frame(envelope_with(DeltaAck{1}));
    const std::string payload = frame.substr(kFrameHeaderBytes) + std::string(8, '\0');
    rejected(header_bytes(static_cast<std::uint32_t>(payload.size())) + payload, FrameError::kUndecodable);
  }
  SECTION("an all-zero message: no sender endpoint") {
    // A root pointer of 0 reads as an envelope of defaults, whose sender endpoint has port 0.
    rejected(header_bytes(16) + std::string("\x00\x00\x00\x00\x01\x00\x00\x00", 8) + std::string(8, '\0'),
             FrameError::kUndecodable);
  }
}

TEST_CASE("wire: sealed or flagged frames are rejected as undecodable", "[wire]") {
  const std::string frame = encode_peer_frame(envelope_with(DeltaAck{1}));
  for (const std::size_t at : {6, 7, 8, 11, 12, 35}) {
    std::string changed = frame;
    changed[at] = '\x01';
    INFO("header byte " << at);
    CHECK(parse_frame_header(changed).ok);
    rejected(changed, FrameError::kUndecodable);
  }
}

// ---- Field rules: a valid frame carrying an invalid envelope is dropped as undecodable. ----

std::string rejected_envelope(const Envelope& envelope) {
  CHECK_FALSE(validate_envelope(envelope));
  return rejected(encode_peer_frame(envelope), FrameError::kUndecodable);
}

TEST_CASE("wire: the sender endpoint must have a port", "[wire]") {
  Envelope envelope = envelope_with(DeltaAck{1});
  envelope.sender_endpoint.port = 0;
  CHECK_THAT(rejected_envelope(envelope), Catch::Contains("port 0"));
}

TEST_CASE("wire: the sender endpoint must have a host of 1 to 255 bytes without NUL", "[wire]") {
  Envelope envelope = envelope_with(DeltaAck{1});
  envelope.sender_endpoint.host = "";
  CHECK_THAT(rejected_envelope(envelope), Catch::Contains("empty host"));
  envelope.sender_endpoint.host = std::string(kMaxHostBytes + 1, 'h');
  CHECK_THAT(rejected_envelope(envelope), Catch::Contains("over the limit"));
  envelope.sender_endpoint.host = std::string("a\0b", 3);
  CHECK_THAT(rejected_envelope(envelope), Catch::Contains("NUL"));
  envelope.sender_endpoint.host = std::string(kMaxHostBytes, 'h');
  check_round_trip(envelope);
}

TEST_CASE("wire: every endpoint in the body is checked too", "[wire]") {
  MemberUpdate bad = update(1, MemberStatus::kAlive, 1);
  bad.endpoint.port = 0;
  rejected_envelope(envelope_with(Ping{1, {update(2, MemberStatus::kAlive, 1), bad}}));
  rejected_envelope(envelope_with(PingAck{1, {bad}}));
  rejected_envelope(envelope_with(PingRequest{1, PeerId{2}, endpoint("", 1), {}}));
  rejected_envelope(envelope_with(PingRequest{1, PeerId{2}, endpoint("10.0.0.1", 1), {bad}}));
}

TEST_CASE("wire: an unknown member status is rejected", "[wire]") {
  MemberUpdate bad = update(1, MemberStatus::kAlive, 1);
  bad.status = static_cast<MemberStatus>(4);
  CHECK_THAT(rejected_envelope(envelope_with(Ping{1, {bad}})), Catch::Contains("unknown status"));
  bad.status = static_cast<MemberStatus>(255);
  rejected_envelope(envelope_with(PingAck{1, {bad}}));
}

TEST_CASE("wire: more than kMaxUpdatesPerMessage updates are rejected", "[wire]") {
  std::vector<MemberUpdate> updates;
  for (std::uint64_t i = 0; i <= kMaxUpdatesPerMessage; ++i)
    updates.push_back(update(i, MemberStatus::kAlive, 1));
  CHECK_THAT(rejected_envelope(envelope_with(Ping{1, updates})), Catch::Contains("member updates"));
  rejected_envelope(envelope_with(PingAck{1, updates}));
  rejected_envelope(envelope_with(PingRequest{1, PeerId{2}, endpoint("10.0.0.1", 1), updates}));
}

TEST_CASE("wire: DeltaPush sequences must strictly increase", "[wire]") {
  DeltaPush push;
  push.entries = {{5, "a"}, {5, "b"}};
  CHECK_THAT(rejected_envelope(envelope_with(push)), Catch::Contains("sequence"));
  push.entries = {{5, "a"}, {6, "b"}, {4, "c"}};
  rejected_envelope(envelope_with(push));
}

TEST_CASE("wire: a DeltaPush with too many entries is rejected", "[wire]") {
  DeltaPush push;
  for (std::uint64_t i = 0; i <= kMaxDeltaPushEntries; ++i) push.entries.push_back({i, ""});
  CHECK_THAT(rejected_envelope(envelope_with(push)), Catch::Contains("entries"));
  push.entries.pop_back();
  check_round_trip(envelope_with(push));
}

TEST_CASE("wire: a delta-group over kMaxFramePayloadBytes is refused", "[wire]") {
  // It cannot arrive in a frame (the frame would be oversized); validate_envelope says so to a sender.
  DeltaPush push;
  push.entries.push_back({1, std::string(kMaxFramePayloadBytes + 1, 'd')});
  const Status valid = validate_envelope(envelope_with(push));
  REQUIRE_FALSE(valid);
  CHECK(valid.error().code() == ErrorCode::kProtocol);
  CHECK_THAT(valid.error().message(), Catch::Contains("delta-group"));
}

// ---- Names. ----

TEST_CASE("wire: cluster ids are FNV-1a 64 of the name", "[wire]") {
  // Published FNV-1a 64 test vectors: peers of every build must agree on these.
  CHECK(cluster_id_of("") == 0xcbf29ce484222325ULL);
  CHECK(cluster_id_of("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(cluster_id_of("foobar") == 0x85944171f73967e8ULL);
  CHECK(cluster_id_of("prod") != cluster_id_of("staging"));
}

TEST_CASE("wire: every frame error has a distinct name", "[wire]") {
  std::set<std::string_view> names;
  for (const FrameError error : {FrameError::kBadMagic, FrameError::kWrongVersion, FrameError::kUnknownType,
                                 FrameError::kOversized, FrameError::kTruncated, FrameError::kUndecodable}) {
    names.insert(to_string(error));
  }
  CHECK(names == std::set<std::string_view>{"bad_magic", "wrong_version", "unknown_type", "oversized",
                                            "truncated", "undecodable"});
}

}  // namespace
}  // namespace cairn::gossip
