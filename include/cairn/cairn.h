/* cairn's C API: the stable ABI of libcairn, for C and for every language with a C FFI (Python ctypes,
 * Rust, Go cgo, Swift). The C++ API (store.h, node.h) is stable at the source level only; this header is
 * what a binary compiled against one libcairn.so.1 may rely on with any later libcairn.so.1
 * (docs/embedding.md, "ABI policy").
 *
 * Conventions, for every function below:
 * - Handles are opaque pointers. Each one is created by a function of this header and released by the
 *   one its comment names; nothing else frees it.
 * - Keys, values and members are byte strings: a pointer and a length (they may hold zero bytes and
 *   need no terminator). Paths and host names are NUL-terminated strings.
 * - A fallible call returns a cairn_code: CAIRN_OK (0) or the reason it failed. The message of the last
 *   failure on the calling thread is cairn_last_error_message(). No C++ exception crosses this boundary:
 *   an unexpected one (out of memory) becomes CAIRN_INTERNAL.
 * - Bytes the library returns to the caller are either borrowed (valid until the documented next call)
 *   or allocated with malloc, to be released with cairn_free().
 * - Every function may be called from any thread, except where its comment says otherwise.
 */
#ifndef CAIRN_CAIRN_H_
#define CAIRN_CAIRN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes. libcairn.so.N has SONAME major N; symbols are only ever added within
 * one N, never changed or removed (docs/embedding.md). */
#define CAIRN_ABI_VERSION 1

/* The result of every fallible call. Codes 1 to 14 equal cairn::ErrorCode (status.h) and are never
 * renumbered; codes added later keep their number forever. */
typedef enum cairn_code {
  CAIRN_OK = 0,
  CAIRN_NOT_FOUND = 1,         /* The key, member or record does not exist. */
  CAIRN_WRONG_TYPE = 2,        /* The key holds another kind of value (a set operation on a register). */
  CAIRN_CORRUPT = 3,           /* Stored or received bytes failed to decode or broke an invariant. */
  CAIRN_LIMIT_EXCEEDED = 4,    /* A documented size or count limit was exceeded; nothing was written. */
  CAIRN_MAP_FULL = 5,          /* The store's map is full and may not grow; the store stays readable. */
  CAIRN_IO = 6,                /* The operating system reported an I/O error. */
  CAIRN_PROTOCOL = 7,          /* A peer or client broke the wire protocol. */
  CAIRN_INVALID_ARGUMENT = 8,  /* The caller passed a value the call does not accept (or a NULL handle). */
  CAIRN_UNSUPPORTED = 9,       /* A format or protocol version this build does not understand. */
  CAIRN_UNAVAILABLE = 10,      /* Busy or closed (the data directory is locked, a port is taken). */
  CAIRN_UNAUTHENTICATED = 11,  /* A client token was missing or wrong. */
  CAIRN_OUTCOME_UNKNOWN = 12,  /* A request was sent but no reply came. */
  CAIRN_OUT_OF_RANGE = 13,     /* A counter would leave the signed 64-bit range; nothing was written. */
  CAIRN_POSITION_EXPIRED = 14, /* A change-feed position can no longer be resumed (docs/watch.md). */
  CAIRN_INTERNAL = 255         /* An unexpected failure inside the library (e.g. out of memory). */
} cairn_code;

/* The kind of value a key holds. */
typedef enum cairn_kind { CAIRN_KIND_REGISTER = 0, CAIRN_KIND_SET = 1, CAIRN_KIND_COUNTER = 2 } cairn_kind;

/* When a write is acknowledged relative to the disk (options.h has the full contract). */
typedef enum cairn_durability {
  CAIRN_DURABILITY_SYNC = 0,   /* One fsynced commit per write. */
  CAIRN_DURABILITY_GROUP = 1,  /* Default: concurrent writes share one fsynced commit; each waits for it. */
  CAIRN_DURABILITY_NOSYNC = 2  /* No fsync: a power loss may lose the latest acknowledged writes. */
} cairn_durability;

typedef struct cairn_store cairn_store;
typedef struct cairn_store_options cairn_store_options;
typedef struct cairn_cursor cairn_cursor;
typedef struct cairn_node cairn_node;
typedef struct cairn_node_options cairn_node_options;

/* ---- Versions, errors and memory. ---- */

/* CAIRN_ABI_VERSION of the library actually loaded (compare with the header's at run time). */
int cairn_abi_version(void);
/* The library's release, e.g. "0.1.0". A static string. */
const char* cairn_version(void);
/* The lower-case name of a code ("not_found"); "unknown" for a code this library does not know. A
 * static string. */
const char* cairn_code_name(cairn_code code);
/* The message of the last call that failed on this thread, without the code's name (e.g. "no key
 * 'k'"; "" if none has failed). The string belongs to the library and stays valid until the next
 * failing call on this thread. */
const char* cairn_last_error_message(void);
/* Releases bytes the library allocated for the caller (cairn_get's value). NULL is ignored. */
void cairn_free(void* bytes);

/* ---- Store options: defaults as cairn::StoreOptions (group durability, created if missing). ---- */

/* NULL only when out of memory. Release with cairn_store_options_destroy. */
cairn_store_options* cairn_store_options_create(void);
void cairn_store_options_destroy(cairn_store_options* options);
void cairn_store_options_set_durability(cairn_store_options* options, cairn_durability durability);
void cairn_store_options_set_create_if_missing(cairn_store_options* options, int create_if_missing);
void cairn_store_options_set_read_only(cairn_store_options* options, int read_only);
void cairn_store_options_set_map_size(cairn_store_options* options, uint64_t map_size_bytes);

/* ---- The store: open and close. ---- */

/* Opens (or creates) the store in directory `path` with `options` (NULL: the defaults) and sets *store.
 * Fails as cairn::Store::open: CAIRN_UNAVAILABLE when another handle holds the directory, CAIRN_UNSUPPORTED
 * for a newer format, CAIRN_NOT_FOUND without create_if_missing, CAIRN_IO. Release with cairn_store_close. */
cairn_code cairn_store_open(const char* path, const cairn_store_options* options, cairn_store** store);
/* Drops the store's subscriptions, waits for writes in flight and closes it. NULL is ignored, and so is
 * the handle cairn_node_store returned (cairn_node_stop releases that one). Not from a callback. */
void cairn_store_close(cairn_store* store);
/* This replica's id (random, chosen when the store was created). */
uint64_t cairn_store_replica_id(const cairn_store* store);

/* ---- Registers. ---- */

/* Writes `value` to `key`; returns once durable (per the store's durability). */
cairn_code cairn_put(cairn_store* store, const char* key, size_t key_len, const char* value, size_t value_len);
/* Reads the value of `key` (the winner when concurrent writes exist) into a new buffer *value of
 * *value_len bytes, NUL-terminated for convenience (the terminator is not counted); release it with
 * cairn_free. CAIRN_NOT_FOUND for an absent key, CAIRN_WRONG_TYPE for a set or counter. */
cairn_code cairn_get(cairn_store* store, const char* key, size_t key_len, char** value, size_t* value_len);
/* Deletes a key of any kind; deleting an absent key succeeds. */
cairn_code cairn_del(cairn_store* store, const char* key, size_t key_len);

/* ---- Sets. `count` members, member i being members[i] of member_lens[i] bytes, in one write. ---- */

cairn_code cairn_sadd(cairn_store* store, const char* key, size_t key_len, const char* const* members,
                      const size_t* member_lens, size_t count);
cairn_code cairn_srem(cairn_store* store, const char* key, size_t key_len, const char* const* members,
                      const size_t* member_lens, size_t count);
/* Sets *is_member to 1 or 0. */
cairn_code cairn_sismember(cairn_store* store, const char* key, size_t key_len, const char* member,
                           size_t member_len, int* is_member);
/* A cursor over the members of `key` in byte order (none for an absent key); see cairn_cursor_next. */
cairn_code cairn_smembers(cairn_store* store, const char* key, size_t key_len, cairn_cursor** cursor);

/* ---- Counters (signed 64-bit; CAIRN_OUT_OF_RANGE instead of wrapping). ---- */

cairn_code cairn_incr(cairn_store* store, const char* key, size_t key_len, uint64_t amount);
cairn_code cairn_decr(cairn_store* store, const char* key, size_t key_len, uint64_t amount);
/* Sets *value. CAIRN_NOT_FOUND for an absent key. */
cairn_code cairn_counter(cairn_store* store, const char* key, size_t key_len, int64_t* value);

/* ---- Keys. ---- */

/* Sets *kind to the kind of value at `key`; CAIRN_NOT_FOUND for an absent key. */
cairn_code cairn_kind_of(cairn_store* store, const char* key, size_t key_len, cairn_kind* kind);
/* A cursor over the keys starting with `prefix` (prefix_len 0: every key), in byte order. */
cairn_code cairn_scan(cairn_store* store, const char* prefix, size_t prefix_len, cairn_cursor** cursor);

/* ---- Cursors (cairn_smembers, cairn_scan). ---- */

/* Advances the cursor. On CAIRN_OK, *item is the next key or member (*item_len bytes, borrowed: valid
 * until the next call on this cursor or its destruction), or NULL at the end. Items are read in batches,
 * each in a fresh read transaction: a cursor holds none between calls, so it may be kept as long as
 * wanted and never holds up writers. One thread at a time per cursor. */
cairn_code cairn_cursor_next(cairn_cursor* cursor, const char** item, size_t* item_len);
/* Releases the cursor. NULL is ignored. Destroy every cursor before closing its store. */
void cairn_cursor_destroy(cairn_cursor* cursor);

/* ---- Change notifications. ---- */

/* Called once per committed change (local or merged from a peer) to a key with the subscribed prefix.
 * It runs on the store's writer thread, in commit order: it must return quickly and must not write to
 * the store (that would deadlock); reads are fine. `key` is borrowed for the call. `local` is 1 for a
 * write on this handle's store, 0 for a change merged from another replica. */
typedef void (*cairn_change_fn)(void* user_data, const char* key, size_t key_len, cairn_kind kind, int local);

/* Calls `callback(user_data, ...)` for every change to a key starting with `prefix` from now on, and sets
 * *subscription for cairn_unsubscribe. A change is one record: a register, a counter, or one set member
 * (an sadd of three members calls it three times for that key), in commit order (docs/watch.md). */
cairn_code cairn_subscribe(cairn_store* store, const char* prefix, size_t prefix_len, cairn_change_fn callback,
                           void* user_data, uint64_t* subscription);
/* Ends a subscription; once it returns the callback is not running and will not be called again, so
 * `user_data` may be freed. An unknown id is ignored. */
void cairn_unsubscribe(cairn_store* store, uint64_t subscription);

/* ---- A peer in-process (cairn::Node): the store, kept in sync with a cluster by gossip. ---- */

/* Options with cairn::NodeOptions' defaults for the data directory `data_dir` (gossip on 127.0.0.1:7400,
 * no client, HTTP or RESP listener, cluster "cairn", the cluster key from data_dir/cluster.key). NULL
 * only when out of memory. Release with cairn_node_options_destroy. */
cairn_node_options* cairn_node_options_create(const char* data_dir);
void cairn_node_options_destroy(cairn_node_options* options);
/* Where to listen for gossip (UDP and TCP on one port): an IP literal or "localhost"; port 0 picks a
 * free port (cairn_node_gossip_port says which). */
void cairn_node_options_set_listen(cairn_node_options* options, const char* host, uint16_t port);
/* Adds a peer to join through, "host:port". */
void cairn_node_options_add_seed(cairn_node_options* options, const char* host_port);
/* Adds a cluster key (64 hex digits): frames are sealed with the first and accepted under any. With
 * none, data_dir/cluster.key is used (created on first start). Every peer needs the same key. */
void cairn_node_options_add_cluster_key(cairn_node_options* options, const char* key_hex);
void cairn_node_options_set_cluster_name(cairn_node_options* options, const char* cluster_name);
/* How often new writes are pushed to neighbours (default 200 ms). */
void cairn_node_options_set_gossip_interval_ms(cairn_node_options* options, uint64_t interval_ms);
void cairn_node_options_set_durability(cairn_node_options* options, cairn_durability durability);

/* Opens the store, binds the gossip port, joins through the seeds and sets *node. Fails as
 * cairn::Node::start (CAIRN_UNAVAILABLE for a taken port or locked directory, CAIRN_INVALID_ARGUMENT for
 * a bad seed or key); after a failure nothing stays open. Release with cairn_node_stop. */
cairn_code cairn_node_start(const cairn_node_options* options, cairn_node** node);
/* The node's store, borrowed: read and write it as any store; writes reach the cluster by gossip. Valid
 * until cairn_node_stop; never pass it to cairn_store_close. */
cairn_store* cairn_node_store(cairn_node* node);
uint16_t cairn_node_gossip_port(const cairn_node* node);
uint64_t cairn_node_replica_id(const cairn_node* node);
/* Leaves the cluster gracefully, closes the network and the store, and releases the node. NULL is
 * ignored. Not from a subscription callback. */
void cairn_node_stop(cairn_node* node);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* CAIRN_CAIRN_H_ */
