/* A C application built with a plain compiler line and pkg-config against an installed cairn, through
 * the C API. Prints "pkg-config consumer ok <value>" on success. */
#include <stdio.h>
#include <string.h>

#include <cairn/cairn.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  cairn_store* store = NULL;
  if (cairn_store_open(argv[1], NULL, &store) != CAIRN_OK) {
    fprintf(stderr, "open: %s\n", cairn_last_error_message());
    return 1;
  }
  char* value = NULL;
  size_t size = 0;
  int result = 1;
  if (cairn_put(store, "via", 3, "pkg-config", 10) == CAIRN_OK && cairn_get(store, "via", 3, &value, &size) == CAIRN_OK) {
    printf("pkg-config consumer ok %.*s abi %d\n", (int)size, value, cairn_abi_version());
    result = 0;
  }
  cairn_free(value);
  cairn_store_close(store);
  return result;
}
