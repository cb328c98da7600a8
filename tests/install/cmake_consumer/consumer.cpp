// A C++ application built outside cairn's tree against an installed cairn: opens a store, writes a
// register and a counter, reads them back. Prints "consumer ok <value> <count>" on success.
#include <cstdio>
#include <string>

#include <cairn/store.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto store = cairn::Store::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 1;
  }
  if (!(*store)->put("installed", "works") || !(*store)->incr("runs", 2)) return 1;
  auto value = (*store)->get("installed");
  auto count = (*store)->counter("runs");
  if (!value || !count) return 1;
  std::printf("consumer ok %s %lld\n", value->value.c_str(), static_cast<long long>(*count));
  return 0;
}
