// The PN-counter's dot store: contributions and resets (src/codec/parts.h).
#include "src/codec/parts.h"

namespace cairn::codec {

using namespace detail;

namespace {

void write_counter_entry(schema::CounterEntry::Builder out, const Dot& dot, const CounterEntry& entry) {
  write_dot(out.initDot(), dot);
  out.setKind(entry.kind == CounterEntry::Kind::kReset ? schema::CounterEntry::Kind::RESET
                                                       : schema::CounterEntry::Kind::CONTRIBUTION);
  out.setContributor(entry.contributor.value);
  write_dot(out.initChain(), entry.chain);
  out.setIncrements(entry.increments);
  out.setDecrements(entry.decrements);
  out.setDeletedIncrements(entry.deleted_increments);
  out.setDeletedDecrements(entry.deleted_decrements);
  write_dot(out.initObserved(), entry.observed);
}

Result<CounterEntry> read_counter_entry(schema::CounterEntry::Reader in) {
  CounterEntry entry;
  switch (in.getKind()) {
    case schema::CounterEntry::Kind::CONTRIBUTION:
      entry.kind = CounterEntry::Kind::kContribution;
      break;
    case schema::CounterEntry::Kind::RESET:
      entry.kind = CounterEntry::Kind::kReset;
      break;
    default:
      return fail(ErrorCode::kUnsupported,
                  cat("a counter entry has kind ", static_cast<unsigned>(in.getKind()),
                      ", unknown to this build (written by a newer cairn?)"));
  }
  entry.contributor = ReplicaId{in.getContributor()};
  auto chain = read_dot(in.getChain(), "a counter entry's chain");
  if (!chain) return forward(chain);
  entry.chain = *chain;
  entry.increments = in.getIncrements();
  entry.decrements = in.getDecrements();
  entry.deleted_increments = in.getDeletedIncrements();
  entry.deleted_decrements = in.getDeletedDecrements();
  const auto observed = in.getObserved();
  if (entry.kind == CounterEntry::Kind::kReset) {
    // A reset names the contribution it observed; a contribution leaves the field unset.
    auto dot = read_dot(observed, "a counter reset's observed contribution");
    if (!dot) return forward(dot);
    entry.observed = *dot;
  } else {
    entry.observed = Dot{ReplicaId{observed.getReplica()}, observed.getCounter()};
  }
  return entry;
}

}  // namespace

namespace detail {

void write_counter(schema::CounterValue::Builder out, const CounterStore& store) {
  auto entries = out.initEntries(static_cast<unsigned>(store.size()));
  unsigned i = 0;
  for (const auto& [dot, entry] : store.entries()) write_counter_entry(entries[i++], dot, entry);
}

Result<CounterStore> read_counter(schema::CounterValue::Reader in) {
  const auto entries = in.getEntries();
  if (auto length = check_length(entries, "a counter"); !length) return forward(length);
  CounterStore::Entries out;
  for (const auto element : entries) {
    auto dot = read_dot(element.getDot(), "a counter entry's dot");
    if (!dot) return forward(dot);
    auto entry = read_counter_entry(element);
    if (!entry) return forward(entry);
    if (!out.emplace(*dot, *entry).second) return corrupt(cat("a counter lists dot ", *dot, " twice"));
  }
  return CounterStore(std::move(out));
}

}  // namespace detail

}  // namespace cairn::codec
