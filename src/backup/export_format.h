// The export format (docs/operations.md, "Export and import"): one JSON object per line per key.
//
//   {"key":K,"type":"register","value":V}
//   {"key":K,"type":"set","members":[M,...]}
//   {"key":K,"type":"counter","value":N}
//
// K, V and each M are byte strings: a JSON string when the bytes are valid UTF-8, otherwise an object
// {"base64":"..."} (standard alphabet, padded), so every byte survives. With metadata an object also
// has "concurrent" (a register's values that lost the tie-break, as byte strings) and
// "version_vector" ([{"replica":"<16 hex>","counter":n},...]); import reads neither.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn::backup {

struct ExportedKey {
  std::string key;
  ValueKind kind = ValueKind::kRegister;
  std::string value;                 // A register's winning value.
  std::vector<std::string> members;  // A set's members.
  std::int64_t counter = 0;          // A counter's value.
  // Metadata (written with --with-metadata; never read back).
  std::vector<std::string> concurrent;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> version_vector;
  bool with_metadata = false;
};

// One line, without its newline.
std::string encode_exported_key(const ExportedKey& key);
// kInvalidArgument (naming what is wrong) for a line that is not one of the objects above.
Result<ExportedKey> decode_exported_key(std::string_view line);

}  // namespace cairn::backup
