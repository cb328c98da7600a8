// The backup manifest and checksum (src/backup/manifest.h) and the offline backup, verify and restore
// steps (src/backup/backup.h) on real stores in temp directories.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "cairn/store.h"
#include "src/backup/backup.h"
#include "src/backup/manifest.h"
#include "src/store/replica.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using cairn::test::TempDir;
using namespace cairn::backup;

Manifest sample_manifest() {
  Manifest manifest;
  manifest.replica = 0x0123456789abcdef;
  manifest.store_format = 1;
  manifest.version_vector = {{0x1, 42, 0}, {0xfedcba9876543210, 7, 9}};
  manifest.created_unix_ms = 1'700'000'000'123;
  manifest.created_utc = "2023-11-14T22:13:20Z";
  manifest.source = "peer 127.0.0.1:7401";
  manifest.bytes = 12345;
  manifest.checksum = std::string(64, 'a');
  return manifest;
}

std::unique_ptr<cairn::Store> open_store(const std::string& dir, bool read_only) {
  cairn::StoreOptions options;
  options.read_only = read_only;
  options.create_if_missing = !read_only;
  auto store = cairn::Store::open(dir, options);
  INFO((store ? std::string("open") : store.error().to_string()));
  REQUIRE(store.has_value());
  return std::move(*store);
}

}  // namespace

TEST_CASE("backup manifest: every field survives JSON, replica ids as hex") {
  const Manifest manifest = sample_manifest();
  const std::string json = manifest_to_json(manifest);
  CHECK_THAT(json, Catch::Contains("\"0123456789abcdef\""));
  auto parsed = parse_manifest(json);
  REQUIRE(parsed.has_value());
  CHECK(parsed->replica == manifest.replica);
  CHECK(parsed->store_format == manifest.store_format);
  CHECK(parsed->version_vector == manifest.version_vector);
  CHECK(parsed->created_unix_ms == manifest.created_unix_ms);
  CHECK(parsed->created_utc == manifest.created_utc);
  CHECK(parsed->source == manifest.source);
  CHECK(parsed->bytes == manifest.bytes);
  CHECK(parsed->checksum == manifest.checksum);
}

TEST_CASE("backup manifest: a newer version, another algorithm or a broken manifest is refused, never misread") {
  std::string json = manifest_to_json(sample_manifest());
  std::string newer = json;
  newer.replace(newer.find("\"manifest_version\": 1"), 21, "\"manifest_version\": 2");
  CHECK(parse_manifest(newer).error().code() == cairn::ErrorCode::kUnsupported);
  std::string other = json;
  other.replace(other.find("blake2b-256"), 11, "md5");
  CHECK(parse_manifest(other).error().code() == cairn::ErrorCode::kUnsupported);
  CHECK(parse_manifest("{\"manifest_version\": 1}").error().code() == cairn::ErrorCode::kCorrupt);
  CHECK(parse_manifest("not json").error().code() == cairn::ErrorCode::kCorrupt);
  std::string bad_id = json;
  bad_id.replace(bad_id.find("0123456789abcdef"), 16, "not-a-replica-id");
  CHECK(parse_manifest(bad_id).error().code() == cairn::ErrorCode::kCorrupt);
}

TEST_CASE("backup checksum: BLAKE2b-256, the same whole or in pieces, and of a file") {
  Checksum whole;
  whole.update("abc");
  // The BLAKE2b-256 test vector of "abc" (RFC 7693 gives BLAKE2b-512; this is the 32-byte digest).
  CHECK(whole.hex() == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  Checksum pieces;
  pieces.update("a");
  pieces.update("");
  pieces.update("bc");
  CHECK(pieces.hex() == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  TempDir dir;
  std::ofstream(dir.str() + "/f", std::ios::binary) << "abc";
  CHECK(checksum_file(dir.str() + "/f").value() == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  CHECK(checksum_file(dir.str() + "/absent").error().code() == cairn::ErrorCode::kIo);
}

TEST_CASE("backup: an offline backup holds every record, verifies, and restores under a new replica id") {
  TempDir dirs;
  std::uint64_t original = 0;
  std::vector<cairn::VersionVectorEntry> vector;
  {
    auto store = cairn::store::open_replica(dirs.str() + "/data", cairn::store::ReplicaOptions{});
    REQUIRE(store.has_value());
    original = (*store)->replica_id();
    REQUIRE((*store)->put("k", std::string("v\0\xff", 3)));
    REQUIRE((*store)->sadd("s", {"a", "b"}));
    REQUIRE((*store)->incr("c", 3));
    vector = (*store)->context_vector().value();
  }
  std::uint64_t progressed = 0;
  auto manifest = backup_directory(dirs.str() + "/data", dirs.str() + "/backup",
                                   [&](std::uint64_t done, std::uint64_t) { progressed = done; });
  REQUIRE(manifest.has_value());
  CHECK(manifest->replica == original);
  CHECK(manifest->store_format >= 1);
  CHECK(progressed == manifest->bytes);
  REQUIRE(vector.size() == 1);
  CHECK(manifest->version_vector == vector);  // The copy's causal context, as the store had it.
  CHECK(fs::exists(dirs.str() + "/backup/manifest.json"));
  CHECK(!fs::exists(dirs.str() + "/backup/lock.mdb"));
  CHECK(verify_backup(dirs.str() + "/backup").has_value());

  auto first = restore_backup(dirs.str() + "/backup", dirs.str() + "/r1");
  auto second = restore_backup(dirs.str() + "/backup", dirs.str() + "/r2");
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(first->new_replica != original);
  CHECK(second->new_replica != original);
  CHECK(first->new_replica != second->new_replica);
  auto restored = open_store(dirs.str() + "/r1", true);
  CHECK(restored->replica_id() == first->new_replica);
  CHECK(restored->get("k")->value == std::string("v\0\xff", 3));
  CHECK(restored->sismember("s", "b").value());
  CHECK(restored->counter("c").value() == 3);
}

TEST_CASE("backup: a flipped byte or a missing file is refused by verify and restore, and a used directory is refused") {
  TempDir dirs;
  {
    auto store = open_store(dirs.str() + "/data", false);
    REQUIRE(store->put("k", "v"));
  }
  REQUIRE(backup_directory(dirs.str() + "/data", dirs.str() + "/backup", {}).has_value());
  CHECK(backup_directory(dirs.str() + "/data", dirs.str() + "/backup", {}).error().code() ==
        cairn::ErrorCode::kInvalidArgument);  // The backup directory is not empty any more.
  fs::create_directories(dirs.str() + "/used");
  std::ofstream(dirs.str() + "/used/x") << "x";
  CHECK(restore_backup(dirs.str() + "/backup", dirs.str() + "/used").error().code() == cairn::ErrorCode::kInvalidArgument);

  {
    std::fstream file(dirs.str() + "/backup/data.mdb", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4000);
    file.put('\x7f');
  }
  auto verified = verify_backup(dirs.str() + "/backup");
  REQUIRE(!verified.has_value());
  CHECK(verified.error().code() == cairn::ErrorCode::kCorrupt);
  CHECK_THAT(verified.error().message(), Catch::Contains("checksum") && Catch::Contains("manifest says"));
  CHECK(restore_backup(dirs.str() + "/backup", dirs.str() + "/new").error().code() == cairn::ErrorCode::kCorrupt);
  CHECK(!fs::exists(dirs.str() + "/new"));
  fs::remove(dirs.str() + "/backup/manifest.json");
  CHECK(verify_backup(dirs.str() + "/backup").error().code() == cairn::ErrorCode::kNotFound);
}
