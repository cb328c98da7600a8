#include "src/store/cursors.h"

#include <deque>
#include <string>

#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/lmdb_store.h"

namespace cairn::store {
namespace {

constexpr std::size_t kBatch = 256;

// Walks the `values` database from a position, a batch per read transaction.
class BatchedCursor : public Cursor {
 public:
  BatchedCursor(LmdbStore& store, std::string start, std::string prefix)
      : store_(store), resume_at_(std::move(start)), prefix_(std::move(prefix)) {}

  Result<std::optional<std::string>> next() override {
    if (buffer_.empty() && !exhausted_) {
      if (auto filled = fill(); !filled) return tl::unexpected(filled.error());
    }
    if (buffer_.empty()) return std::optional<std::string>();
    std::string item = std::move(buffer_.front());
    buffer_.pop_front();
    return std::optional<std::string>(std::move(item));
  }

 protected:
  // Looks at one record; returns the item it yields (if any) and where to continue after it.
  struct Step {
    std::optional<std::string> item;
    std::string continue_at;  // An LMDB key strictly greater than the record's.
  };
  virtual Result<Step> visit(const LmdbCursor::Entry& entry) = 0;

 private:
  Status fill() {
    return store_.with_read_txn([&](const Txn& txn) -> Status {
      auto cursor = LmdbCursor::open(txn, store_.databases().values);
      if (!cursor) return tl::unexpected(cursor.error());
      auto entry = cursor->seek(resume_at_);
      while (buffer_.size() < kBatch) {
        if (!entry) return tl::unexpected(entry.error());
        if (!entry->has_value() || !(*entry)->key.starts_with(prefix_)) {
          exhausted_ = true;
          return ok();
        }
        auto step = visit(**entry);
        if (!step) return tl::unexpected(step.error());
        if (step->item) buffer_.push_back(std::move(*step->item));
        resume_at_ = std::move(step->continue_at);
        entry = cursor->seek(resume_at_);
      }
      return ok();
    });
  }

  LmdbStore& store_;
  std::string resume_at_;
  std::string prefix_;
  std::deque<std::string> buffer_;
  bool exhausted_ = false;
};

// The smallest LMDB key greater than `key`.
std::string successor(std::string_view key) { return std::string(key) + '\0'; }

class KeyCursor final : public BatchedCursor {
 public:
  KeyCursor(LmdbStore& store, std::string_view prefix)
      : BatchedCursor(store, codec::encode_key_prefix(prefix), codec::encode_key_prefix(prefix)) {}

 protected:
  Result<Step> visit(const LmdbCursor::Entry& entry) override {
    auto key = codec::decode_record_key(entry.key);
    if (!key) return tl::unexpected(key.error());
    const std::string key_prefix = codec::encode_exact_key_prefix(key->key);
    // A key is listed when any of its records is live; a counter holding only reset entries is not.
    // Records of one key are contiguous, so after deciding, skip to the next key.
    bool live = true;
    std::string continue_at = successor(entry.key);
    if (key->type == codec::ValueType::kCounter) {
      auto value = codec::decode_record(entry.value, codec::ValueType::kCounter);
      if (!value) return tl::unexpected(value.error());
      live = crdt::PnCounter::present(std::get<crdt::PnCounter::Store>(*value));
    }
    if (live) continue_at = key_prefix + '\xff';  // Past every type byte of this key.
    return Step{live ? std::optional<std::string>(key->key) : std::nullopt, std::move(continue_at)};
  }
};

class MemberCursor final : public BatchedCursor {
 public:
  MemberCursor(LmdbStore& store, std::string_view key)
      : BatchedCursor(store, member_prefix(key), member_prefix(key)) {}

 protected:
  Result<Step> visit(const LmdbCursor::Entry& entry) override {
    auto key = codec::decode_record_key(entry.key);
    if (!key) return tl::unexpected(key.error());
    return Step{std::move(key->member), successor(entry.key)};
  }

 private:
  static std::string member_prefix(std::string_view key) {
    return codec::encode_exact_key_prefix(key) + static_cast<char>(codec::ValueType::kSetMember);
  }
};

}  // namespace

std::unique_ptr<Cursor> make_key_cursor(LmdbStore& store, std::string_view prefix) {
  return std::make_unique<KeyCursor>(store, prefix);
}

std::unique_ptr<Cursor> make_member_cursor(LmdbStore& store, std::string_view key) {
  return std::make_unique<MemberCursor>(store, key);
}

}  // namespace cairn::store
