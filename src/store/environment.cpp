#include "src/store/environment.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <variant>

#include "src/codec/codec.h"
#include "src/store/delta_log.h"
#include "src/store/fingerprint.h"
#include "src/store/hash_tree.h"
#include "src/store/identity.h"
#include "src/store/record_checks.h"
#include "src/store/lmdb.h"
#include "src/store/partition.h"
#include "src/store/retirement.h"
#include "src/util/hex_id.h"

namespace cairn::store {
namespace {

Error os_error(std::string_view what, const std::string& path) {
  return Error(ErrorCode::kIo, std::string(what) + " " + path + ": " + std::strerror(errno));
}


// Drops the `resets` index and lists again every counter record that holds a reset entry: one pass over
// the values, for a store written before the index existed.
Status rebuild_reset_index(Txn& txn, const Databases& databases) {
  if (int rc = mdb_drop(txn.get(), databases.resets, 0); rc != 0) {
    return tl::unexpected(lmdb_error(rc, "clear the reset index"));
  }
  auto cursor = LmdbCursor::open(txn, databases.values);
  if (!cursor) return tl::unexpected(cursor.error());
  for (auto entry = cursor->seek("");; entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value()) break;
    // A record that does not decode is left out rather than failing the open: compaction could not
    // rewrite it anyway, and reading it reports the damage where it is used.
    auto key = codec::decode_record_key((*entry)->key);
    if (!key || key->type != codec::ValueType::kCounter) continue;
    auto value = codec::decode_record((*entry)->value, key->type);
    if (!value) continue;
    const auto* counter = std::get_if<crdt::PnCounter::Store>(&*value);
    if (counter == nullptr || !crdt::PnCounter::holds_resets(*counter)) continue;
    const std::string record_key((*entry)->key);  // A copy: the view is the page's, and this writes.
    if (auto written = txn.write(databases.resets, record_key, ""); !written) return written;
  }
  return ok();
}

}  // namespace

std::string encode_sequence(std::uint64_t sequence) {
  std::string bytes(8, '\0');
  for (int i = 7; i >= 0; --i, sequence >>= 8) bytes[static_cast<std::size_t>(i)] = static_cast<char>(sequence & 0xff);
  return bytes;
}

std::uint64_t decode_sequence(std::string_view bytes) {
  std::uint64_t sequence = 0;
  for (unsigned char byte : bytes.substr(0, 8)) sequence = (sequence << 8) | byte;
  return sequence;
}

Result<std::unique_ptr<Environment>> Environment::open(const std::string& path, const StoreOptions& options) {
  std::unique_ptr<Environment> environment(new Environment());
  std::error_code ec;
  if (!std::filesystem::exists(path / std::filesystem::path("data.mdb"), ec)) {
    if (options.read_only || !options.create_if_missing) {
      return fail(ErrorCode::kNotFound, "no cairn store in " + path);
    }
    std::filesystem::create_directories(path, ec);
    if (ec) return fail(ErrorCode::kIo, "cannot create directory " + path + ": " + ec.message());
  }

  if (!options.read_only) {
    // LMDB itself allows several writing processes; a peer assumes it is the only writer (it caches
    // the causal context), so a second one is refused.
    const std::string lock_path = path + "/cairn.lock";
    environment->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (environment->lock_fd_ < 0) return tl::unexpected(os_error("cannot open", lock_path));
    if (::flock(environment->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return fail(ErrorCode::kUnavailable, "the data directory " + path + " is in use by another cairn process");
      }
      return tl::unexpected(os_error("cannot lock", lock_path));
    }
  }

  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env); rc != 0) return tl::unexpected(lmdb_error(rc, "create environment"));
  environment->databases_.env = env;
  // Seven named databases today; room for the ones later formats add (retirement, ...).
  mdb_env_set_maxdbs(env, 16);
  mdb_env_set_mapsize(env, options.map_size_bytes);
  // MDB_NOTLS: read transactions are not tied to threads, so any thread may read at any time.
  unsigned flags = MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  if (options.durability == Durability::kNoSync) flags |= MDB_NOSYNC;
  if (int rc = mdb_env_open(env, path.c_str(), flags, 0644); rc != 0) {
    return tl::unexpected(lmdb_error(rc, "open environment in " + path));
  }
  if (auto opened = environment->open_databases(options.read_only); !opened) return tl::unexpected(opened.error());
  if (auto loaded = environment->load_or_create_meta(options, path); !loaded) {
    return tl::unexpected(loaded.error());
  }
  return environment;
}

Environment::~Environment() {
  if (databases_.env != nullptr) mdb_env_close(databases_.env);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // Closing releases the flock.
}

Status Environment::open_databases(bool read_only) {
  MDB_txn* raw = nullptr;
  if (int rc = mdb_txn_begin(databases_.env, nullptr, read_only ? MDB_RDONLY : 0, &raw); rc != 0) {
    return tl::unexpected(lmdb_error(rc, "begin"));
  }
  Txn txn(raw);
  const unsigned flags = read_only ? 0 : MDB_CREATE;
  struct Named {
    const char* name;
    MDB_dbi* dbi;
  };
  for (Named named : {Named{"meta", &databases_.meta}, Named{"values", &databases_.values},
                      Named{"deltas", &databases_.deltas}, Named{"peers", &databases_.peers},
                      Named{"tree", &databases_.tree}, Named{"tree_keys", &databases_.tree_keys},
                      Named{"resets", &databases_.resets},
                      Named{"unconfirmed_chains", &databases_.unconfirmed_chains},
                      Named{"changes", &databases_.changes}}) {
    const bool is_index = named.dbi == &databases_.tree || named.dbi == &databases_.tree_keys ||
                          named.dbi == &databases_.resets || named.dbi == &databases_.unconfirmed_chains ||
                          named.dbi == &databases_.changes;
    if (int rc = mdb_dbi_open(txn.get(), named.name, flags, named.dbi); rc != 0) {
      // A read-only open of a store from before the hash tree, the reset index or the unconfirmed
      // chains: readers never need them.
      if (read_only && is_index && rc == MDB_NOTFOUND) {
        *named.dbi = 0;
        continue;
      }
      return tl::unexpected(lmdb_error(rc, std::string("open database ") + named.name));
    }
  }
  // Committing keeps the handles open, also for a read-only transaction (aborting would close them).
  return txn.commit();
}

Status Environment::check_fingerprint(Txn& txn, const std::string& path) {
  auto here = fingerprint_of(path);
  if (!here) return tl::unexpected(here.error());
  if (meta_.fingerprint == *here && !identity_minted_) return ok();
  if (meta_.fingerprint && !identity_minted_) {
    // Not where the id was minted: a copy (the original may run on), a restored backup or a move to
    // another filesystem or machine. Whichever, this copy must not mint under the id again.
    auto retired = read_retirements(txn, databases_.meta);
    if (!retired) return tl::unexpected(retired.error());
    const crdt::ReplicaId old_replica = meta_.replica;
    crdt::ReplicaId new_replica{random_replica_id()};
    while (new_replica == old_replica || retired->contains(new_replica)) new_replica = crdt::ReplicaId{random_replica_id()};
    move_to_new_id(meta_, new_replica);
    if (auto forgotten = forget_unconfirmed_chains(txn, databases_); !forgotten) return forgotten;
    identity_change_ = IdentityChange{old_replica.value, new_replica.value, IdentityChangeReason::kCopied, false, 0,
                                      fingerprint_difference(*meta_.fingerprint, *here) + " differs from where replica " +
                                          hex_id(old_replica.value) + " was minted"};
    identity_minted_ = true;
  }
  // A new store, or one written before fingerprints existed (it keeps its id), records where it is.
  meta_.fingerprint = *here;
  meta_.next_delta_sequence = next_delta_sequence_;
  return txn.write(databases_.meta, kMetaIdentityKey, codec::encode_meta(meta_));
}

Status Environment::load_or_create_meta(const StoreOptions& options, const std::string& path) {
  MDB_txn* raw = nullptr;
  if (int rc = mdb_txn_begin(databases_.env, nullptr, options.read_only ? MDB_RDONLY : 0, &raw); rc != 0) {
    return tl::unexpected(lmdb_error(rc, "begin"));
  }
  Txn txn(raw);
  if (auto read = read_or_mint_identity(txn, options); !read) return read;
  if (auto read = read_context_and_sequence(txn); !read) return read;
  if (auto settled = settle_partition_count(txn, options); !settled) return settled;
  if (options.read_only) return ok();
  if (auto checked = check_fingerprint(txn, path); !checked) return checked;
  if (auto built = build_missing_indexes(txn); !built) return built;
  return txn.commit();
}

Status Environment::read_or_mint_identity(const Txn& txn, const StoreOptions& options) {
  auto identity = txn.read(databases_.meta, kMetaIdentityKey);
  if (!identity) return tl::unexpected(identity.error());
  if (!identity->has_value()) {
    if (options.read_only) return fail(ErrorCode::kNotFound, "the directory holds no initialised cairn store");
    meta_.format_version = kStoreFormatVersion;
    meta_.replica = crdt::ReplicaId{options.replica_id_for_new_store != 0 ? options.replica_id_for_new_store
                                                                          : random_replica_id()};
    identity_minted_ = true;  // Written by check_fingerprint, with its fingerprint.
    return ok();
  }
  auto meta = codec::decode_meta(**identity);
  if (!meta) return fail(meta.error().code(), "store identity: " + meta.error().message());
  meta_ = *meta;
  if (meta_.format_version > kStoreFormatVersion) {
    return fail(ErrorCode::kUnsupported, "the store was written in format " + std::to_string(meta_.format_version) +
                                             "; this build reads formats up to " +
                                             std::to_string(kStoreFormatVersion));
  }
  return ok();
}

Status Environment::settle_partition_count(Txn& txn, const StoreOptions& options) {
  auto count = resolve_partition_count(meta_.partition_count, options.partition_count);
  if (!count) return tl::unexpected(count.error());
  // A store of format 1 predates partitions: its first writable open records the count (the default
  // unless one was asked for) and the format, in the same transaction as the rest of the open, so a
  // crash leaves it either untouched or upgraded. Nothing else changes: every record stays where it
  // is and the one causal context stays whole (docs/partitions.md "Upgrade").
  const bool upgrade = meta_.partition_count != *count || meta_.format_version < kStoreFormatVersion;
  meta_.partition_count = *count;
  if (options.read_only || !upgrade) return ok();
  meta_.format_version = kStoreFormatVersion;
  meta_.next_delta_sequence = next_delta_sequence_;
  return txn.write(databases_.meta, kMetaIdentityKey, codec::encode_meta(meta_));
}

Status Environment::read_context_and_sequence(const Txn& txn) {
  auto context = txn.read(databases_.meta, kMetaContextKey);
  if (!context) return tl::unexpected(context.error());
  if (context->has_value()) {
    auto decoded = codec::decode_context(**context);
    if (!decoded) return fail(decoded.error().code(), "causal context: " + decoded.error().message());
    if (auto checked = check_context(*decoded, "the stored causal context"); !checked) return checked;
    initial_context_ = std::move(*decoded);
  }
  // The log may have been trimmed empty: the meta record remembers where the sequence stood.
  auto next_sequence = delta_log::next_sequence(txn, databases_, meta_.next_delta_sequence);
  if (!next_sequence) return tl::unexpected(next_sequence.error());
  next_delta_sequence_ = *next_sequence;
  return ok();
}

namespace {

// Builds an index with `build` and marks it built under `scheme` at meta key `key`, unless the mark
// says it was built under that scheme already.
Status build_unless_marked(Txn& txn, const Databases& databases, const char* key, std::string_view scheme,
                           const std::function<Status()>& build) {
  auto marked = txn.read(databases.meta, key);
  if (!marked) return tl::unexpected(marked.error());
  if (marked->has_value() && **marked == scheme) return ok();
  if (auto built = build(); !built) return built;
  return txn.write(databases.meta, key, scheme);
}

}  // namespace

Status Environment::build_missing_indexes(Txn& txn) {
  // A store written before the hash tree existed (or under another tree scheme) gets it built here,
  // once, before any write can change a record.
  if (auto built = build_unless_marked(txn, databases_, kMetaTreeKey, kTreeScheme,
                                       [&] { return tree::rebuild(txn, databases_); });
      !built) {
    return built;
  }
  // Likewise the index of counter records holding resets (compact_counter_resets reads only it).
  return build_unless_marked(txn, databases_, kMetaResetIndexKey, kResetIndexScheme,
                             [&] { return rebuild_reset_index(txn, databases_); });
}

std::uint64_t random_replica_id() {
  std::random_device device;
  std::uint64_t id = 0;
  while (id == 0) id = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  return id;
}

}  // namespace cairn::store
