#include "src/backup/export_import.h"

#include <algorithm>
#include <limits>
#include <set>


namespace cairn::backup {
namespace {

bool is_not_found(const Error& error) { return error.code() == ErrorCode::kNotFound; }

// Reads `key` as an ExportedKey; nullopt when it was deleted since the scan.
Result<std::optional<ExportedKey>> read_key(KeyAccess& source, const std::string& key, bool with_metadata) {
  using Out = std::optional<ExportedKey>;
  auto kind = source.kind(key);
  if (!kind) return is_not_found(kind.error()) ? Result<Out>(Out{}) : tl::unexpected(kind.error());
  ExportedKey out;
  out.key = key;
  out.kind = *kind;
  out.with_metadata = with_metadata;
  switch (*kind) {
    case ValueKind::kRegister: {
      auto value = source.get(key);
      if (!value) return is_not_found(value.error()) ? Result<Out>(Out{}) : tl::unexpected(value.error());
      out.value = std::move(value->value);
      out.concurrent = std::move(value->concurrent);
      break;
    }
    case ValueKind::kCounter: {
      auto value = source.counter(key);
      if (!value) return is_not_found(value.error()) ? Result<Out>(Out{}) : tl::unexpected(value.error());
      out.counter = *value;
      break;
    }
    case ValueKind::kSet: {
      auto listed = source.smembers(key, [&](const std::string& member) {
        out.members.push_back(member);
        return true;
      });
      if (!listed) return is_not_found(listed.error()) ? Result<Out>(Out{}) : tl::unexpected(listed.error());
      break;
    }
  }
  if (with_metadata) {
    auto inspection = source.inspect(key);
    if (!inspection) return is_not_found(inspection.error()) ? Result<Out>(Out{}) : tl::unexpected(inspection.error());
    out.version_vector = std::move(inspection->version_vector);
  }
  return Out(std::move(out));
}

// The members of set `key` in `target` (none when the key is absent).
Result<std::set<std::string>> current_members(KeyAccess& target, const std::string& key) {
  std::set<std::string> members;
  auto listed = target.smembers(key, [&](const std::string& member) {
    members.insert(member);
    return true;
  });
  if (!listed && !is_not_found(listed.error())) return tl::unexpected(listed.error());
  return members;
}

bool ends_import(const Error& error) {
  return error.code() == ErrorCode::kUnavailable || error.code() == ErrorCode::kOutcomeUnknown ||
         error.code() == ErrorCode::kIo || error.code() == ErrorCode::kUnauthenticated;
}

}  // namespace

Result<std::uint64_t> export_keys(KeyAccess& source, const std::string& prefix, bool with_metadata,
                                  const std::function<Status(const std::string&)>& line, const Progress& progress) {
  // A client runs one request at a time: list the keys, then read each.
  std::vector<std::string> keys;
  auto scanned = source.scan(prefix, [&](const std::string& key) {
    keys.push_back(key);
    return true;
  });
  if (!scanned) return tl::unexpected(scanned.error());
  std::uint64_t written = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto key = read_key(source, keys[i], with_metadata);
    if (!key) return tl::unexpected(key.error());
    if (*key) {
      if (auto out = line(encode_exported_key(**key)); !out) return tl::unexpected(out.error());
      ++written;
    }
    if (progress) progress(i + 1, keys.size());
  }
  return written;
}

Result<std::vector<ImportWrite>> plan_import(KeyAccess& target, const ExportedKey& imported) {
  std::vector<ImportWrite> writes;
  switch (imported.kind) {
    case ValueKind::kRegister: {
      auto current = target.get(imported.key);
      if (!current && !is_not_found(current.error())) return tl::unexpected(current.error());
      if (current && current->value == imported.value) break;
      writes.push_back(ImportWrite{ImportWrite::Kind::kPut, imported.key, imported.value, {}, 0});
      break;
    }
    case ValueKind::kSet: {
      auto current = current_members(target, imported.key);
      if (!current) return tl::unexpected(current.error());
      std::vector<std::string> missing;
      for (const std::string& member : imported.members) {
        if (!current->contains(member)) missing.push_back(member);
      }
      if (missing.empty()) break;  // An empty set cannot be written (a set exists through its members).
      for (std::size_t at = 0; at < missing.size(); at += kImportMembersPerWrite) {
        const auto end = missing.begin() + static_cast<std::ptrdiff_t>(std::min(missing.size(), at + kImportMembersPerWrite));
        writes.push_back(ImportWrite{ImportWrite::Kind::kSadd, imported.key, {},
                                     std::vector<std::string>(missing.begin() + static_cast<std::ptrdiff_t>(at), end), 0});
      }
      break;
    }
    case ValueKind::kCounter: {
      auto current = target.counter(imported.key);
      if (!current && !is_not_found(current.error())) return tl::unexpected(current.error());
      std::int64_t difference = 0;
      if (__builtin_sub_overflow(imported.counter, current ? *current : 0, &difference) ||
          difference == std::numeric_limits<std::int64_t>::min()) {
        return fail(ErrorCode::kOutOfRange, "moving counter from its value to the imported one leaves the int64 range");
      }
      // Equal (or exported at 0 and absent here: a write of 0 would change nothing): nothing to write.
      if (difference == 0) break;
      const std::uint64_t amount = static_cast<std::uint64_t>(difference > 0 ? difference : -difference);
      writes.push_back(ImportWrite{difference > 0 ? ImportWrite::Kind::kIncr : ImportWrite::Kind::kDecr,
                                   imported.key, {}, {}, amount});
      break;
    }
  }
  return writes;
}

Status apply_writes(KeyAccess& target, const std::vector<ImportWrite>& writes) {
  for (const ImportWrite& write : writes) {
    Status done = ok();
    switch (write.kind) {
      case ImportWrite::Kind::kPut: done = target.put(write.key, write.value); break;
      case ImportWrite::Kind::kSadd: done = target.sadd(write.key, write.members); break;
      case ImportWrite::Kind::kIncr: done = target.incr(write.key, write.amount); break;
      case ImportWrite::Kind::kDecr: done = target.decr(write.key, write.amount); break;
    }
    if (!done) return done;
  }
  return ok();
}

Result<ImportSummary> import_lines(KeyAccess& target, std::istream& in, const Progress& progress) {
  constexpr std::size_t kErrorsKept = 10;
  ImportSummary summary;
  std::string text;
  std::uint64_t number = 0;
  const auto failed = [&](const Error& error) {
    ++summary.failed;
    if (summary.errors.size() < kErrorsKept) summary.errors.push_back("line " + std::to_string(number) + ": " + error.to_string());
  };
  while (std::getline(in, text)) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto imported = decode_exported_key(text);
    if (!imported) {
      failed(imported.error());
      continue;
    }
    ++summary.keys;
    auto writes = plan_import(target, *imported);
    if (!writes && ends_import(writes.error())) return tl::unexpected(writes.error());
    if (!writes) {
      failed(writes.error());
      continue;
    }
    if (writes->empty()) {
      ++summary.unchanged;
    } else {
      auto applied = apply_writes(target, *writes);
      if (!applied && ends_import(applied.error())) return tl::unexpected(applied.error());
      if (!applied) {
        failed(applied.error());
        continue;
      }
      ++summary.changed;
      summary.writes += writes->size();
    }
    if (progress) progress(number, 0);
  }
  if (in.bad()) return fail(ErrorCode::kIo, "cannot read the import input");
  return summary;
}

}  // namespace cairn::backup
