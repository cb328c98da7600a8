// cairn export and cairn import (docs/operations.md, "Export and import") over a KeyAccess: a running
// peer (cairn::Client) or a data directory (cairn::Store).
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "cairn/status.h"
#include "src/backup/backup.h"
#include "src/backup/export_format.h"
#include "src/backup/key_access.h"

namespace cairn::backup {

// Writes one line per key starting with `prefix`, in key order, to `line` (without a newline). The key
// names are listed first (one scan), then each key is read: a key deleted meanwhile is left out.
// `progress` gets keys done and the total. Returns how many keys were written out.
Result<std::uint64_t> export_keys(KeyAccess& source, const std::string& prefix, bool with_metadata,
                                  const std::function<Status(const std::string&)>& line, const Progress& progress);

// One local write an import makes.
struct ImportWrite {
  enum class Kind { kPut, kSadd, kIncr, kDecr } kind = Kind::kPut;
  std::string key;
  std::string value;                 // kPut
  std::vector<std::string> members;  // kSadd: at most kImportMembersPerWrite
  std::uint64_t amount = 0;          // kIncr, kDecr
};

// Members one import write adds: a request small enough to commit well within a client's reply
// timeout on a loaded peer (a 50,000-member sadd took over 6 s there), and progress in steps.
inline constexpr std::size_t kImportMembersPerWrite = 1000;

// What importing `imported` into `target` must write so the key reads as exported, idempotently: a
// register equal to the imported value needs nothing; a set gets the members it lacks (none removed); a
// counter is moved by the difference between its value and the imported one. kWrongType when the key
// holds another kind; kOutOfRange when a counter difference leaves the int64 range.
Result<std::vector<ImportWrite>> plan_import(KeyAccess& target, const ExportedKey& imported);

// Makes `writes`, one store call each, in order. The one function to change when the store gains a
// batch write (Store::write(WriteBatch)): a key's writes could then commit together.
Status apply_writes(KeyAccess& target, const std::vector<ImportWrite>& writes);

struct ImportSummary {
  std::uint64_t keys = 0;       // Lines read as keys.
  std::uint64_t unchanged = 0;  // Keys that already read as imported.
  std::uint64_t changed = 0;    // Keys written to.
  std::uint64_t writes = 0;     // Store calls made.
  std::uint64_t failed = 0;     // Lines that could not be imported (bad line, wrong type, ...).
  std::vector<std::string> errors;  // The first few failures, "line N: ...".
};

// Imports every line of `in` (JSON lines as export writes them; blank lines skipped). A line that
// fails is counted and the import goes on; a failure of the connection (kUnavailable,
// kOutcomeUnknown) or the store's I/O ends it with that error (re-running it is safe).
// `progress` gets the lines done (and 0).
Result<ImportSummary> import_lines(KeyAccess& target, std::istream& in, const Progress& progress);

}  // namespace cairn::backup
