#include "src/store/record_checks.h"

#include <string>
#include <type_traits>
#include <variant>

namespace cairn::store {
namespace {

// Every failed check's message starts with this, so is_failed_check can tell it from other kCorrupt
// errors (bytes that do not decode, a malformed delta from a peer).
constexpr std::string_view kFailedCheck = "invariant check failed: ";

Error failed(const codec::RecordKey& key, std::string_view why) {
  return Error(ErrorCode::kCorrupt, std::string(kFailedCheck) + "record of key '" + key.key + "' " + std::string(why));
}

bool names_an_event(const crdt::Dot& dot) { return dot.replica.value != 0 && dot.counter != 0; }

Status check_counter_entry(const codec::RecordKey& key, const crdt::Dot& dot, const crdt::CounterEntry& entry) {
  if (entry.contributor.value == 0) return tl::unexpected(failed(key, "holds a counter entry with no contributor"));
  if (entry.chain.replica != entry.contributor || entry.chain.counter == 0) {
    return tl::unexpected(failed(key, "holds a counter entry whose chain is not its contributor's"));
  }
  if (entry.kind == crdt::CounterEntry::Kind::kContribution && entry.contributor != dot.replica) {
    return tl::unexpected(failed(key, "holds a contribution not written by its contributor"));
  }
  return ok();
}

}  // namespace

Status check_record(const codec::RecordKey& key, const codec::RecordValue& value) {
  if (const auto* set = std::get_if<crdt::DotSet>(&value)) {
    if (set->dots().empty()) return tl::unexpected(failed(key, "is a set member with no dots"));
    for (const crdt::Dot& dot : set->dots()) {
      if (!names_an_event(dot)) return tl::unexpected(failed(key, "holds a dot with a zero replica or counter"));
    }
    return ok();
  }
  if (const auto* reg = std::get_if<crdt::LwwRegister::Store>(&value)) {
    for (const auto& [dot, entry] : reg->entries()) {
      if (!names_an_event(dot)) return tl::unexpected(failed(key, "holds a dot with a zero replica or counter"));
    }
    return ok();
  }
  for (const auto& [dot, entry] : std::get<crdt::PnCounter::Store>(value).entries()) {
    if (!names_an_event(dot)) return tl::unexpected(failed(key, "holds a dot with a zero replica or counter"));
    if (auto checked = check_counter_entry(key, dot, entry); !checked) return checked;
  }
  return ok();
}

Status check_record_under(const codec::RecordKey& key, const codec::RecordValue& value,
                          const crdt::DotContext& context, const crdt::DotContext* also) {
  if (auto checked = check_record(key, value); !checked) return checked;
  bool covered = true;
  const auto seen = [&](const crdt::Dot& dot) { return context.contains(dot) || (also != nullptr && also->contains(dot)); };
  std::visit(
      [&](const auto& store) {
        using S = std::decay_t<decltype(store)>;
        if constexpr (std::is_same_v<S, crdt::DotSet>) {
          for (const crdt::Dot& dot : store.dots()) covered = covered && seen(dot);
        } else {
          for (const auto& [dot, entry] : store.entries()) covered = covered && seen(dot);
        }
      },
      value);
  if (!covered) return tl::unexpected(failed(key, "holds a dot its store's causal context has not seen"));
  return ok();
}

Status check_context(const crdt::DotContext& context, std::string_view what) {
  const auto bad = [&](std::string_view why) {
    return fail(ErrorCode::kCorrupt, std::string(kFailedCheck) + std::string(what) + " " + std::string(why));
  };
  for (const auto& [replica, counter] : context.vector().entries()) {
    if (replica.value == 0 || counter == 0) return bad("has a version vector entry with a zero replica or counter");
  }
  for (const crdt::Dot& dot : context.cloud()) {
    if (dot.replica.value == 0 || dot.counter <= context.vector().get(dot.replica)) {
      return bad("has an out-of-order dot its version vector covers");
    }
  }
  return ok();
}

bool is_failed_check(const Error& error) {
  return error.code() == ErrorCode::kCorrupt && error.message().starts_with(kFailedCheck);
}

}  // namespace cairn::store
