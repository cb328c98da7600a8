// The delta dissemination family of the peer wire format: DeltaPush and DeltaAck (see parts.h for the
// four steps of every message type).
#include <utility>

#include "gossip/wire/parts.h"

namespace cairn::gossip::wire_parts {

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

void write_body(BodyBuilder body, const DeltaPush& push) {
  auto entries = body.initDeltaPush().initEntries(static_cast<unsigned>(push.entries.size()));
  for (unsigned i = 0; i < push.entries.size(); ++i) {
    entries[i].setSequence(push.entries[i].sequence);
    entries[i].setDeltaGroup(as_data(push.entries[i].delta_group));
  }
}

void write_body(BodyBuilder body, const DeltaAck& ack) { body.initDeltaAck().setSequence(ack.sequence); }

Result<DeltaPush> read_message(wire_schema::DeltaPush::Reader in) {
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

Result<DeltaAck> read_message(wire_schema::DeltaAck::Reader in) { return DeltaAck{in.getSequence()}; }

std::size_t estimate_words(const DeltaPush& push) {
  std::size_t words = 0;
  for (const DeltaPush::Entry& entry : push.entries) words += 4 + words_for_bytes(entry.delta_group.size());
  return words;
}

std::size_t estimate_words(const DeltaAck&) { return 0; }

}  // namespace cairn::gossip::wire_parts
