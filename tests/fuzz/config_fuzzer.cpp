// Fuzzes cairnd's config reader with arbitrary documents: it must return a config or an error, never
// crash, hang or throw (toml++ throws parse errors; apply_toml must turn every one into an Error), and
// a refused document must leave the config untouched.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/daemon/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view document(reinterpret_cast<const char*>(data), size);
  cairn::daemon::DaemonConfig config;
  config.node.data_dir = "sentinel";
  const auto applied = cairn::daemon::apply_toml(document, "fuzz.toml", config);
  if (!applied && config.node.data_dir != "sentinel") std::abort();  // A refused file changed the config.
  return 0;
}
