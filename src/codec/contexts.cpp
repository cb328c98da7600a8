// Dots and causal contexts: the store-wide context record, and the context every delta-group and
// retired removal carries (src/codec/codec.h).
#include "src/codec/parts.h"

#include <set>

namespace cairn::codec {

using namespace detail;

namespace detail {

void write_dot(schema::Dot::Builder out, const Dot& dot) {
  out.setReplica(dot.replica.value);
  out.setCounter(dot.counter);
}

Result<Dot> read_dot(schema::Dot::Reader in, const char* what) {
  const Dot dot{ReplicaId{in.getReplica()}, in.getCounter()};
  if (dot.counter == 0) return corrupt(cat(what, " ", dot, " has counter 0; dot counters start at 1"));
  return dot;
}

void write_context(schema::DotContext::Builder out, const DotContext& context) {
  const auto& entries = context.vector().entries();
  auto vector = out.initVector(static_cast<unsigned>(entries.size()));
  unsigned i = 0;
  for (const auto& [replica, counter] : entries) {
    vector[i].setReplica(replica.value);
    vector[i].setCounter(counter);
    ++i;
  }
  auto cloud = out.initCloud(static_cast<unsigned>(context.cloud().size()));
  i = 0;
  for (const Dot& dot : context.cloud()) write_dot(cloud[i++], dot);
}

// Rebuilds a context in canonical form: repeated vector entries and cloud dots the vector covers are
// redundant, not contradictory, so they are folded rather than refused.
Result<DotContext> read_context(schema::DotContext::Reader in) {
  const auto entries = in.getVector();
  if (auto length = check_length(entries, "a version vector"); !length) return forward(length);
  crdt::VersionVector vector;
  for (const auto entry : entries) {
    if (entry.getCounter() == 0) {
      return corrupt(cat("a version vector entry of replica ", entry.getReplica(),
                         " has counter 0; replicas with no events have no entry"));
    }
    vector.raise(ReplicaId{entry.getReplica()}, entry.getCounter());
  }
  const auto cloud = in.getCloud();
  if (auto length = check_length(cloud, "a context's cloud"); !length) return forward(length);
  std::set<Dot> dots;
  for (const auto element : cloud) {
    auto dot = read_dot(element, "a cloud dot");
    if (!dot) return forward(dot);
    dots.insert(*dot);
  }
  return DotContext::from_parts(std::move(vector), dots);
}

}  // namespace detail

std::string encode_context(const DotContext& context) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoredContext>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::STORED_CONTEXT);
  write_context(root.initContext(), context);
  return to_bytes(message);
}

Result<DotContext> decode_context(std::string_view bytes) {
  return decode_message<schema::StoredContext>(
      bytes, "stored context", [](schema::StoredContext::Reader root) -> Result<DotContext> {
        if (auto header = check_header(root, schema::MessageType::STORED_CONTEXT); !header)
          return forward(header);
        return read_context(root.getContext());
      });
}

std::string encode_stored_context(const StoredContext& stored) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoredContext>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::STORED_CONTEXT);
  write_context(root.initContext(), stored.context);
  root.setOmitsRetired(stored.omitted_retirements.has_value());
  root.setRetirementDigest(stored.omitted_retirements.value_or(0));
  return to_bytes(message);
}

Result<StoredContext> decode_stored_context(std::string_view bytes) {
  return decode_message<schema::StoredContext>(
      bytes, "stored context", [](schema::StoredContext::Reader root) -> Result<StoredContext> {
        if (auto header = check_header(root, schema::MessageType::STORED_CONTEXT); !header)
          return forward(header);
        auto context = read_context(root.getContext());
        if (!context) return forward(context);
        StoredContext stored{std::move(*context), std::nullopt};
        if (root.getOmitsRetired()) stored.omitted_retirements = root.getRetirementDigest();
        return stored;
      });
}

}  // namespace cairn::codec
