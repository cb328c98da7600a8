// Anti-entropy between two real stores: random divergent histories (deletes included) reconcile to
// the state of a third replica that received every delta; only differing buckets travel; a bucket's
// records never mark dots of other buckets as seen; the new wire messages are validated rule by rule.
#include "gossip/anti_entropy.h"

#include <catch2/catch.hpp>

#include "gossip/sim/cluster.h"
#include "gossip/sim/store_pair.h"
#include "gossip/wire.h"
#include "src/codec/codec.h"
#include "src/store/hash_tree.h"
#include "tests/store/store_test_support.h"
#include "tests/support/property.h"
#include "tests/support/random_ops.h"

namespace cairn::test {
namespace {

using sim::digest_of;

std::string context_of(store::Replica& store) {
  auto top = store.tree_hashes(1, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, true);
  REQUIRE(top.has_value());
  return top->context;
}

std::vector<std::uint64_t> top_hashes(store::Replica& store) {
  auto top = store.tree_hashes(1, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, false);
  REQUIRE(top.has_value());
  return top->hashes;
}

TEST_CASE("anti-entropy: two stores with random divergent histories reconcile to the join of both") {
  for_each_history("anti-entropy reconciles divergent histories", 25, [](Rng& rng) {
    TempDir dir;
    auto a = open_store(dir.path() / "a");
    auto b = open_store(dir.path() / "b");
    auto oracle = open_store(dir.path() / "oracle");
    std::uint64_t tag = 0;
    // A shared past, then each side alone (deletes of shared keys included).
    for (int i = 0; i < 40; ++i) random_write(rng.below(2) != 0 ? *a : *b, rng, tag++);
    ship_deltas(*a, *b);
    ship_deltas(*b, *a);
    const int alone = static_cast<int>(rng.below(80));
    for (int i = 0; i < alone; ++i) random_write(rng.below(2) != 0 ? *a : *b, rng, tag++);
    ship_deltas(*a, *oracle);
    ship_deltas(*b, *oracle);

    sim::StorePair pair(*a, *b);
    const auto round = pair.reconcile();
    CHECK(round.completed);
    CHECK(round.in_sync);
    INFO("a: " << digest_of(*a) << "\nb: " << digest_of(*b) << "\noracle: " << digest_of(*oracle));
    CHECK(digest_of(*a) == digest_of(*oracle));
    CHECK(digest_of(*b) == digest_of(*oracle));
    CHECK(top_hashes(*a) == top_hashes(*oracle));
    CHECK(top_hashes(*b) == top_hashes(*oracle));
    CHECK(context_of(*a) == context_of(*oracle));
    CHECK(context_of(*b) == context_of(*oracle));

    // A second round finds nothing to do and ships no records.
    const auto records_before = pair.a().stats().records_sent;
    const auto again = pair.reconcile();
    CHECK(again.in_sync);
    CHECK(pair.a().stats().records_sent == records_before);
  });
}

TEST_CASE("anti-entropy: a delete on one side removes the record on the other") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto b = open_store(dir.path() / "b");
  REQUIRE(a->put("gone", "soon"));
  REQUIRE(a->sadd("set", {"x", "y"}));
  REQUIRE(a->incr("n", 5));
  ship_deltas(*a, *b);
  REQUIRE(a->del("gone"));
  REQUIRE(a->srem("set", {"x"}));
  REQUIRE(a->del("n"));
  REQUIRE(b->put("new", "from b"));
  sim::StorePair pair(*a, *b);
  REQUIRE(pair.reconcile().in_sync);
  for (Store* store : {a.get(), b.get()}) {
    CHECK(store->get("gone").error().code() == ErrorCode::kNotFound);
    CHECK_FALSE(*store->sismember("set", "x"));
    CHECK(*store->sismember("set", "y"));
    CHECK(store->counter("n").error().code() == ErrorCode::kNotFound);
    CHECK(store->get("new")->value == "from b");
  }
}

TEST_CASE("anti-entropy: one changed member of a big set ships only its bucket") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto b = open_store(dir.path() / "b");
  std::vector<std::string> members;
  for (int i = 0; i < 20'000; ++i) members.push_back("member-" + std::to_string(i));
  REQUIRE(a->sadd("big", members));
  ship_deltas(*a, *b);
  REQUIRE(a->sadd("big", {"one more"}));

  sim::StorePair pair(*a, *b);
  const auto round = pair.reconcile();
  REQUIRE(round.in_sync);
  CHECK(*b->sismember("big", "one more"));
  // One leaf bucket compared by digest, and only the new member's record shipped.
  CHECK(pair.a().stats().buckets_exchanged == 1);
  CHECK(pair.a().stats().records_sent == 1);
  CHECK(pair.b().stats().records_sent == 0);
  std::printf("anti-entropy: one new member of a 20,000-member set: %llu bytes in %llu frames\n",
              static_cast<unsigned long long>(round.bytes), static_cast<unsigned long long>(round.frames));
  CHECK(round.bytes < 20'000);
}

TEST_CASE("anti-entropy: a bucket's records do not mark dots of other buckets as seen") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto b = open_store(dir.path() / "b");
  // Two keys in different buckets.
  std::string first = "k0", second;
  const auto key_hash = [](const std::string& key) {
    return store::tree::key_hash(
        codec::encode_record_key(codec::RecordKey{key, codec::ValueType::kRegister, {}}));
  };
  const auto bucket = [&](const std::string& key) { return store::tree::bucket_of_key_hash(key_hash(key)); };
  for (int i = 1; second.empty(); ++i) {
    if (bucket("k" + std::to_string(i)) != bucket(first)) second = "k" + std::to_string(i);
  }
  REQUIRE(a->put(first, "1"));
  REQUIRE(a->put(second, "2"));
  auto records = a->bucket_records({bucket(first)}, {key_hash(first)}, 1 << 20);
  REQUIRE(records.has_value());
  REQUIRE(records->records == 1);
  // Merged under a's whole context, which has seen the second write too.
  REQUIRE(b->merge_buckets({bucket(first)}, records->group, {}, context_of(*a), a->replica_id()).has_value());
  CHECK(b->get(first)->value == "1");
  // The second write's delta arrives later by gossip: it must still apply.
  ship_deltas(*a, *b);
  CHECK(b->get(second)->value == "2");
}

TEST_CASE("anti-entropy: records outside the buckets named are refused and change nothing") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto b = open_store(dir.path() / "b");
  REQUIRE(a->put("key", "value"));
  const std::uint64_t hash = store::tree::key_hash(
      codec::encode_record_key(codec::RecordKey{"key", codec::ValueType::kRegister, {}}));
  const std::uint32_t home = store::tree::bucket_of_key_hash(hash);
  const std::uint32_t elsewhere = (home + 1) % kTreeLeafBuckets;
  auto records = a->bucket_records({home}, {hash}, 1 << 20);
  REQUIRE(records.has_value());
  const std::string context = context_of(*a);
  auto refused = b->merge_buckets({elsewhere}, records->group, {}, context, a->replica_id());
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == ErrorCode::kCorrupt);
  CHECK(b->get("key").error().code() == ErrorCode::kNotFound);
  CHECK_FALSE(b->merge_buckets({home}, "not a delta-group", {}, context, a->replica_id()).has_value());
  CHECK_FALSE(b->merge_buckets({home}, records->group, {}, "not a context", a->replica_id()).has_value());
  // An absent key outside the buckets named is refused too.
  auto context_only = a->bucket_records({elsewhere}, {}, 1 << 20);
  REQUIRE(context_only.has_value());
  auto absent_elsewhere =
      b->merge_buckets({elsewhere}, context_only->group, {hash}, context, a->replica_id());
  REQUIRE_FALSE(absent_elsewhere.has_value());
  CHECK(absent_elsewhere.error().code() == ErrorCode::kCorrupt);
}

gossip::Envelope envelope_of(gossip::Body body) {
  return gossip::Envelope{1, gossip::PeerId{2}, gossip::Endpoint{"10.0.0.1", 7400}, std::move(body)};
}

TEST_CASE("wire: anti-entropy messages round-trip and break no rule") {
  const std::uint64_t in_17 = std::uint64_t{17} << 48 | 5;
  const gossip::TreeLevel top{9, false, 1, {0}, std::vector<std::uint64_t>(16, 5), "context"};
  const gossip::TreeLevel deep{9, true, 3, {1, 7, 255}, std::vector<std::uint64_t>(48, 1), {}};
  const gossip::BucketDigest digest{9, {0, 17, 65535}, {in_17, 3}, {11, 12}};
  const gossip::BucketDelta reply{9, true, {0, 17}, "records", {in_17}, {in_17, 4}};
  const gossip::BucketDelta last{9, false, {17}, "records", {in_17}, {}};
  for (const gossip::Body& body : {gossip::Body(top), gossip::Body(deep), gossip::Body(digest),
                                   gossip::Body(reply), gossip::Body(last)}) {
    const auto decoded = gossip::decode_peer_frame(gossip::encode_peer_frame(envelope_of(body)));
    INFO(decoded.detail);
    REQUIRE(decoded.ok);
    CHECK(decoded.envelope == envelope_of(body));
  }
}

TEST_CASE("wire: anti-entropy messages that break a rule are refused") {
  const auto refused = [](gossip::Body body) {
    const auto decoded = gossip::decode_peer_frame(gossip::encode_peer_frame(envelope_of(std::move(body))));
    return !decoded.ok && decoded.error == gossip::FrameError::kUndecodable;
  };
  CHECK(refused(gossip::TreeLevel{1, false, 0, {0}, {}, {}}));     // Level 0.
  CHECK(refused(gossip::TreeLevel{1, false, 5, {0}, {}, {}}));     // Below the leaves.
  CHECK(refused(gossip::TreeLevel{1, false, 1, {1}, {}, {}}));     // Level 1 has parent 0 only.
  CHECK(refused(gossip::TreeLevel{1, false, 2, {}, {}, {}}));      // No parents.
  CHECK(refused(gossip::TreeLevel{1, false, 2, {3, 3}, {}, {}}));  // Not ascending.
  CHECK(refused(gossip::TreeLevel{1, false, 2, {16}, {}, {}}));    // No such parent.
  CHECK(refused(gossip::TreeLevel{1, true, 2, {3}, std::vector<std::uint64_t>(15, 0), {}}));  // 15 hashes.
  CHECK(refused(gossip::TreeLevel{1, false, 2, {3}, {}, "context"}));  // Context below level 1.
  std::vector<std::uint32_t> too_many(gossip::kMaxTreeParents + 1);
  for (std::uint32_t i = 0; i < too_many.size(); ++i) too_many[i] = i;
  CHECK(refused(gossip::TreeLevel{1, false, 4, too_many, {}, {}}));
  CHECK(refused(gossip::BucketDigest{1, {}, {}, {}}));                          // No bucket.
  CHECK(refused(gossip::BucketDigest{1, {65536}, {}, {}}));                     // No such bucket.
  CHECK(refused(gossip::BucketDigest{1, {5, 4}, {}, {}}));                      // Not ascending.
  CHECK(refused(gossip::BucketDigest{1, too_many, {}, {}}));                    // Too many.
  CHECK(refused(gossip::BucketDigest{1, {0}, {1, 2}, {1}}));                    // Hashes unpaired.
  CHECK(refused(gossip::BucketDigest{1, {0}, {std::uint64_t{1} << 48}, {1}}));  // Key outside its buckets.
  CHECK(refused(gossip::BucketDelta{1, true, {0}, "x", {std::uint64_t{2} << 48}, {}}));  // Absent outside.
  CHECK(refused(gossip::BucketDelta{1, true, {0}, "x", {}, {std::uint64_t{2} << 48}}));  // Wanted outside.
  CHECK(refused(gossip::BucketDelta{1, false, {0}, "x", {}, {5}}));  // Only a reply wants.
  CHECK(refused(gossip::BucketDelta{1, true, {}, "x", {}, {}}));     // No bucket.
}

}  // namespace
}  // namespace cairn::test
