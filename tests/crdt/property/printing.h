// Printing states and reads for failure reports. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include "tests/crdt/property/generators.h"

namespace cairn::test {

// ---------------------------------------------------------------------------------------------------
// Printing states for failure reports.

inline void print_entry(std::ostream& out, const crdt::LwwEntry& entry) {
  out << '"' << entry.value << "\"@" << entry.timestamp;
}

inline void print_entry(std::ostream& out, const crdt::CounterEntry& entry) {
  if (entry.kind == crdt::CounterEntry::Kind::kReset) {
    out << "reset{of " << entry.contributor << " chain " << entry.chain << " +" << entry.increments << " -"
        << entry.decrements << " observed " << entry.observed << "}";
  } else {
    out << "contribution{" << entry.contributor << " chain " << entry.chain << " +" << entry.increments
        << " -" << entry.decrements << " deleted +" << entry.deleted_increments << " -"
        << entry.deleted_decrements << "}";
  }
}

inline void print_store(std::ostream& out, const crdt::DotSet& store) {
  out << "{";
  const char* separator = "";
  for (const crdt::Dot& dot : store.dots()) {
    out << separator << dot;
    separator = " ";
  }
  out << "}";
}

template <typename V>
void print_store(std::ostream& out, const crdt::DotFun<V>& store) {
  out << "{";
  const char* separator = "";
  for (const auto& [dot, entry] : store.entries()) {
    out << separator << dot << "=";
    print_entry(out, entry);
    separator = " ";
  }
  out << "}";
}

template <typename K, typename S>
void print_store(std::ostream& out, const crdt::DotMap<K, S>& store) {
  out << "{";
  const char* separator = "";
  for (const auto& [key, nested] : store.entries()) {
    out << separator << '"' << key << "\": ";
    print_store(out, nested);
    separator = ", ";
  }
  out << "}";
}

template <typename S>
std::string show(const crdt::Causal<S>& state) {
  std::ostringstream out;
  print_store(out, state.store);
  out << " context " << state.context;
  return out.str();
}

inline void print_read_value(std::ostream& out, const std::string& value) { out << '"' << value << '"'; }
inline void print_read_value(std::ostream& out, const std::set<std::string>& members) {
  out << "{";
  const char* separator = "";
  for (const auto& member : members) {
    out << separator << '"' << member << '"';
    separator = " ";
  }
  out << "}";
}
inline void print_read_value(std::ostream& out, const std::pair<bool, std::int64_t>& counter) {
  out << counter.second << (counter.first ? "" : " (absent)");
}

// What a reader sees, per key (a value type on its own reads as the single key "").
template <typename V>
std::string show_read(const std::map<std::string, V>& read) {
  std::ostringstream out;
  out << "{";
  const char* separator = "";
  for (const auto& [key, value] : read) {
    out << separator << '"' << key << "\": ";
    print_read_value(out, value);
    separator = ", ";
  }
  out << "}";
  return out.str();
}

}  // namespace cairn::test
