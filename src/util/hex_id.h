// A replica id as 16 lower-case hex digits: how logs, the ready line, metrics labels and the CLI show it.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cairn {

inline std::string hex_id(std::uint64_t id) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, id);
  return text;
}

}  // namespace cairn
