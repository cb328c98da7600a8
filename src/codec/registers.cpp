// The LWW register's dot store: dot -> (value, HLC timestamp) (src/codec/parts.h).
#include "src/codec/parts.h"

namespace cairn::codec {

using namespace detail;

namespace detail {

void write_register(schema::RegisterValue::Builder out, const RegisterStore& store) {
  auto entries = out.initEntries(static_cast<unsigned>(store.size()));
  unsigned i = 0;
  for (const auto& [dot, entry] : store.entries()) {
    auto element = entries[i++];
    write_dot(element.initDot(), dot);
    element.setValue(as_data(entry.value));
    auto timestamp = element.initTimestamp();
    timestamp.setWallMs(entry.timestamp.wall_ms);
    timestamp.setLogical(entry.timestamp.logical);
  }
}

Result<RegisterStore> read_register(schema::RegisterValue::Reader in) {
  const auto entries = in.getEntries();
  if (auto length = check_length(entries, "a register"); !length) return forward(length);
  RegisterStore::Entries out;
  for (const auto element : entries) {
    auto dot = read_dot(element.getDot(), "a register entry's dot");
    if (!dot) return forward(dot);
    const auto timestamp = element.getTimestamp();
    crdt::LwwEntry entry{as_string(element.getValue()),
                         crdt::HlcTimestamp{timestamp.getWallMs(), timestamp.getLogical()}};
    // A dot names one write: two entries for it would leave the value ambiguous.
    if (!out.emplace(*dot, std::move(entry)).second)
      return corrupt(cat("a register lists dot ", *dot, " twice"));
  }
  return RegisterStore(std::move(out));
}

}  // namespace detail

}  // namespace cairn::codec
