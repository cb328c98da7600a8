// The stability family of the peer wire format: ContextReport and RetiredNotice (see parts.h for the
// four steps of every message type; gossip/stability.h for what they decide).
#include "gossip/wire/parts.h"

namespace cairn::gossip::wire_parts {
namespace {

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

}  // namespace

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

void write_body(BodyBuilder body, const ContextReport& report) {
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

void write_body(BodyBuilder body, const RetiredNotice& notice) {
  auto out = body.initRetiredNotice();
  out.setThrough(notice.through);
  out.setReplica(notice.replica.value);
}

Result<ContextReport> read_message(wire_schema::ContextReport::Reader in) {
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

Result<RetiredNotice> read_message(wire_schema::RetiredNotice::Reader in) {
  return RetiredNotice{PeerId{in.getReplica()}, in.getThrough()};
}

std::size_t estimate_words(const ContextReport& report) {
  return 10 + 3 * (report.vector.size() + report.retirements.size() + report.gaps.size());
}

std::size_t estimate_words(const RetiredNotice&) { return 0; }

}  // namespace cairn::gossip::wire_parts
