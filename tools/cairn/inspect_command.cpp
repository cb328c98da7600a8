// cairn inspect KEY: the CRDT metadata behind one key, for people debugging replication.
#include <ctime>

#include "tools/cairn/commands.h"
#include "tools/cairn/exit_codes.h"

namespace cairn::cli {
namespace {

std::string dot_text(const InspectedDot& dot) { return "(" + hex_id(dot.replica) + ", " + std::to_string(dot.counter) + ")"; }

Json dot_json(const InspectedDot& dot) { return Json{{"replica", hex_id(dot.replica)}, {"counter", dot.counter}}; }

// An HLC timestamp as UTC time plus its logical part: "2026-11-25T10:41:02.123Z+0".
std::string hlc_text(std::uint64_t wall_ms, std::uint32_t logical) {
  const std::time_t seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[64];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  char rest[32];
  std::snprintf(rest, sizeof rest, ".%03uZ+%u", static_cast<unsigned>(wall_ms % 1000), logical);
  return std::string(text, length) + rest;
}

// A register's versions: the winner's value, writer and HLC at the top level, then every version and
// the concurrent ones (those that lost the tie-break).
void put_register_versions(Json& json, const KeyInspection& inspection) {
  Json versions = Json::array();
  for (const RegisterVersion& version : inspection.versions) {
    Json entry{{"dot", dot_json(version.dot)},
               {"hlc", {{"wall_ms", version.hlc_wall_ms}, {"logical", version.hlc_logical}}}};
    put_bytes(entry, "value", version.value);
    versions.push_back(entry);
  }
  put_bytes(json, "value", inspection.versions.front().value);
  json["writing_replica"] = hex_id(inspection.writing_replica);
  json["hlc"] = versions.front()["hlc"];
  json["versions"] = versions;
  json["concurrent"] = Json(versions.begin() + 1, versions.end());
}

Json counter_part_json(const CounterPart& part) {
  Json entry{{"dot", dot_json(part.dot)},
             {"kind", part.reset ? "reset" : "contribution"},
             {"contributor", hex_id(part.contributor)},
             {"increments", part.increments},
             {"decrements", part.decrements}};
  if (part.reset) {
    entry["observed"] = dot_json(part.observed);
  } else {
    entry["deleted_increments"] = part.deleted_increments;
    entry["deleted_decrements"] = part.deleted_decrements;
  }
  return entry;
}

void put_counter_parts(Json& json, const KeyInspection& inspection) {
  json["counter_value"] = inspection.counter_value;
  // Then counter_value is the nearest int64, not the value (`counter` fails for the key).
  json["counter_out_of_range"] = inspection.counter_out_of_range;
  Json parts = Json::array();
  for (const CounterPart& part : inspection.counter_parts) parts.push_back(counter_part_json(part));
  json["counter_parts"] = parts;
}

void put_set_members(Json& json, const KeyInspection& inspection) {
  json["member_count"] = inspection.member_count;
  json["member_count_capped"] = inspection.member_count_capped;
  Json members = Json::array();
  for (const InspectedMember& member : inspection.members) {
    Json entry;
    put_bytes(entry, "member", member.member);
    Json dots = Json::array();
    for (const InspectedDot& dot : member.dots) dots.push_back(dot_json(dot));
    entry["dots"] = dots;
    members.push_back(entry);
  }
  json["members"] = members;
}

// The key's causal context: its version vector and the dots outside it.
void put_context(Json& json, const KeyInspection& inspection) {
  Json vector = Json::object();
  for (const auto& [replica, counter] : inspection.version_vector) vector[hex_id(replica)] = counter;
  json["version_vector"] = vector;
  Json outside = Json::array();
  for (const InspectedDot& dot : inspection.dots_outside_vector) outside.push_back(dot_json(dot));
  json["dots_outside_vector"] = outside;
}

Json inspection_json(const KeyInspection& inspection) {
  Json json{{"key", inspection.key}, {"type", to_string(inspection.kind)}};
  Json kinds = Json::array();
  for (ValueKind kind : inspection.kinds) kinds.push_back(to_string(kind));
  json["types"] = kinds;
  if (!inspection.versions.empty()) put_register_versions(json, inspection);
  if (!inspection.counter_parts.empty()) put_counter_parts(json, inspection);
  if (!inspection.members.empty() || inspection.member_count > 0) put_set_members(json, inspection);
  put_context(json, inspection);
  return json;
}

void print_inspection(const Output& out, const KeyInspection& inspection) {
  out.line("key:            " + printable(inspection.key));
  std::string types = to_string(inspection.kind);
  for (ValueKind kind : inspection.kinds) {
    if (kind != inspection.kind) types += std::string(" + ") + to_string(kind) + " (concurrent writes of two types)";
  }
  out.line("type:           " + types);
  if (!inspection.versions.empty()) {
    const RegisterVersion& winner = inspection.versions.front();
    out.line("value:          " + printable(winner.value));
    out.line("written by:     replica " + hex_id(inspection.writing_replica) + ", dot " + dot_text(winner.dot) +
             ", hlc " + hlc_text(winner.hlc_wall_ms, winner.hlc_logical));
    if (inspection.versions.size() > 1) {
      out.line("concurrent values (lost the (HLC, replica) tie-break; kept until a write that saw them):");
      for (std::size_t i = 1; i < inspection.versions.size(); ++i) {
        const RegisterVersion& version = inspection.versions[i];
        out.line("  " + printable(version.value) + "  dot " + dot_text(version.dot) + ", hlc " +
                 hlc_text(version.hlc_wall_ms, version.hlc_logical));
      }
    }
  }
  if (!inspection.counter_parts.empty()) {
    if (inspection.counter_out_of_range) {
      out.line(std::string("value:          ") + (inspection.counter_value > 0 ? "above " : "below ") +
               std::to_string(inspection.counter_value) + " (outside the int64 range: `counter` fails until it is back)");
    } else {
      out.line("value:          " + std::to_string(inspection.counter_value));
    }
    out.line("counter parts:");
    for (const CounterPart& part : inspection.counter_parts) {
      if (part.reset) {
        out.line("  reset of " + hex_id(part.contributor) + " at +" + std::to_string(part.increments) + " -" +
                 std::to_string(part.decrements) + ", dot " + dot_text(part.dot) + ", observed " +
                 dot_text(part.observed));
      } else {
        out.line("  " + hex_id(part.contributor) + ": +" + std::to_string(part.increments) + " -" +
                 std::to_string(part.decrements) + " (deleted +" + std::to_string(part.deleted_increments) + " -" +
                 std::to_string(part.deleted_decrements) + "), dot " + dot_text(part.dot));
      }
    }
  }
  if (!inspection.members.empty() || inspection.member_count > 0) {
    out.line("members:        " + std::to_string(inspection.member_count) +
             (inspection.member_count_capped ? " (counted up to here)" : ""));
    for (const InspectedMember& member : inspection.members) {
      std::string dots;
      for (const InspectedDot& dot : member.dots) dots += " " + dot_text(dot);
      out.line("  " + printable(member.member) + "  dots" + dots);
    }
    if (inspection.members.size() < inspection.member_count) {
      out.line("  ... (" + std::to_string(inspection.members.size()) + " listed; `cairn smembers` lists all)");
    }
  }
  std::string vector;
  for (const auto& [replica, counter] : inspection.version_vector) {
    vector += (vector.empty() ? "" : ", ") + hex_id(replica) + ":" + std::to_string(counter);
  }
  out.line("version vector: {" + vector + "}");
  if (!inspection.dots_outside_vector.empty()) {
    std::string dots;
    for (const InspectedDot& dot : inspection.dots_outside_vector) dots += " " + dot_text(dot);
    out.line("dots outside:  " + dots);
  }
}

}  // namespace

int inspect_command(Context& context, const std::string& key) {
  return with_client(context, [&](Client& client) -> Status {
    auto inspection = client.inspect(key);
    if (!inspection) return tl::unexpected(inspection.error());
    if (context.out.json()) {
      context.out.document(inspection_json(*inspection));
    } else {
      print_inspection(context.out, *inspection);
    }
    return ok();
  });
}

}  // namespace cairn::cli
