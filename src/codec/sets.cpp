// An OR-set member's dot store: the dots that added it (src/codec/parts.h).
#include "src/codec/parts.h"

#include <set>

namespace cairn::codec {

using namespace detail;

namespace detail {

void write_set_member(schema::SetMemberValue::Builder out, const crdt::DotSet& store) {
  auto dots = out.initDots(static_cast<unsigned>(store.size()));
  unsigned i = 0;
  for (const Dot& dot : store.dots()) write_dot(dots[i++], dot);
}

Result<crdt::DotSet> read_set_member(schema::SetMemberValue::Reader in) {
  const auto dots = in.getDots();
  if (auto length = check_length(dots, "a set member"); !length) return forward(length);
  std::set<Dot> out;
  for (const auto element : dots) {
    auto dot = read_dot(element, "a set member's dot");
    if (!dot) return forward(dot);
    out.insert(*dot);
  }
  return crdt::DotSet(std::move(out));
}

}  // namespace detail

}  // namespace cairn::codec
