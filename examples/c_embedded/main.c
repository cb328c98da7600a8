/* An edge application in C over libcairn's C API (include/cairn/cairn.h): open a store, write a
 * register, a set and a counter with no network, read them back, list keys with a scan cursor, watch
 * changes with a subscription, and show that expected failures are codes with messages.
 *
 *   c_embedded DATA_DIR
 *
 * Exits 0 when everything reads back as written; prints each step. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cairn/cairn.h"

static int failed(const char* step, cairn_code code) {
  fprintf(stderr, "c_embedded: %s failed: %s (%s)\n", step, cairn_code_name(code), cairn_last_error_message());
  return 1;
}

/* Called on the store's writer thread after each commit: count, and return at once. */
static void count_change(void* user_data, const char* key, size_t key_len, cairn_kind kind, int local) {
  (void)key;
  (void)key_len;
  (void)kind;
  (void)local;
  ++*(int*)user_data;
}

static int list_keys(cairn_store* store, const char* prefix) {
  cairn_cursor* cursor = NULL;
  cairn_code code = cairn_scan(store, prefix, strlen(prefix), &cursor);
  if (code != CAIRN_OK) return failed("scan", code);
  for (;;) {
    const char* key = NULL;
    size_t key_len = 0;
    code = cairn_cursor_next(cursor, &key, &key_len);
    if (code != CAIRN_OK) {
      cairn_cursor_destroy(cursor);
      return failed("cursor", code);
    }
    if (key == NULL) break; /* The end. */
    printf("key %.*s\n", (int)key_len, key);
  }
  cairn_cursor_destroy(cursor);
  return 0;
}

static int write_and_read(cairn_store* store, int* changes) {
  cairn_code code = cairn_put(store, "device/name", 11, "greenhouse-7", 12);
  if (code != CAIRN_OK) return failed("put", code);
  const char* sensors[] = {"humidity", "soil", "temperature"};
  const size_t sensor_lens[] = {8, 4, 11};
  code = cairn_sadd(store, "device/sensors", 14, sensors, sensor_lens, 3);
  if (code != CAIRN_OK) return failed("sadd", code);
  code = cairn_incr(store, "device/boots", 12, 1);
  if (code != CAIRN_OK) return failed("incr", code);

  char* name = NULL;
  size_t name_len = 0;
  code = cairn_get(store, "device/name", 11, &name, &name_len);
  if (code != CAIRN_OK) return failed("get", code);
  printf("device/name = %s\n", name);
  const int name_ok = name_len == 12 && memcmp(name, "greenhouse-7", 12) == 0;
  cairn_free(name);

  int is_member = 0;
  code = cairn_sismember(store, "device/sensors", 14, "soil", 4, &is_member);
  if (code != CAIRN_OK) return failed("sismember", code);
  int64_t boots = 0;
  code = cairn_counter(store, "device/boots", 12, &boots);
  if (code != CAIRN_OK) return failed("counter", code);
  printf("soil sensor: %s, boots: %" PRId64 "\n", is_member ? "yes" : "no", boots);

  /* Expected failures are codes with a message, never crashes. */
  code = cairn_incr(store, "device/name", 11, 1);
  printf("incr on a register: %s (%s)\n", cairn_code_name(code), cairn_last_error_message());
  if (code != CAIRN_WRONG_TYPE) return 1;

  if (list_keys(store, "device/") != 0) return 1;
  printf("changes seen: %d\n", *changes);
  /* One change per record written (docs/watch.md): the name, three set members, the counter. */
  return name_ok && is_member && boots >= 1 && *changes == 5 ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: c_embedded DATA_DIR\n");
    return 2;
  }
  printf("libcairn %s, C ABI %d\n", cairn_version(), cairn_abi_version());
  cairn_store* store = NULL;
  cairn_code code = cairn_store_open(argv[1], NULL, &store);
  if (code != CAIRN_OK) return failed("open", code);
  printf("opened %s as replica %016" PRIx64 "\n", argv[1], cairn_store_replica_id(store));

  int changes = 0;
  uint64_t subscription = 0;
  code = cairn_subscribe(store, "device/", 7, count_change, &changes, &subscription);
  if (code != CAIRN_OK) {
    cairn_store_close(store);
    return failed("subscribe", code);
  }
  const int result = write_and_read(store, &changes);
  cairn_unsubscribe(store, subscription);
  cairn_store_close(store);
  puts(result == 0 ? "ok" : "MISMATCH");
  return result;
}
