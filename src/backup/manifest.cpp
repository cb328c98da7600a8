#include "src/backup/manifest.h"

#include <sodium.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "src/util/hex_id.h"

namespace cairn::backup {
namespace {

using Json = nlohmann::ordered_json;

static_assert(sizeof(crypto_generichash_state) <= 384, "Checksum::state_ is too small");

Error corrupt(const std::string& why) { return Error(ErrorCode::kCorrupt, "not a valid backup manifest: " + why); }

Result<std::uint64_t> replica_from_hex(const Json& value, const char* field) {
  if (!value.is_string()) return tl::unexpected(corrupt(std::string(field) + " is not a hex string"));
  const std::string text = value.get<std::string>();
  if (text.empty() || text.size() > 16 || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return tl::unexpected(corrupt(std::string(field) + " '" + text + "' is not a replica id"));
  }
  return std::stoull(text, nullptr, 16);
}

}  // namespace

std::string manifest_to_json(const Manifest& manifest) {
  Json vector = Json::array();
  for (const VersionVectorEntry& entry : manifest.version_vector) {
    Json item{{"replica", hex_id(entry.replica)}, {"counter", entry.counter}};
    if (entry.beyond_gap != 0) item["beyond_gap"] = entry.beyond_gap;
    vector.push_back(std::move(item));
  }
  const Json json{{"manifest_version", manifest.manifest_version},
                  {"replica", hex_id(manifest.replica)},
                  {"store_format", manifest.store_format},
                  {"version_vector", std::move(vector)},
                  {"created_unix_ms", manifest.created_unix_ms},
                  {"created_utc", manifest.created_utc},
                  {"source", manifest.source},
                  {"file", kDataFile},
                  {"bytes", manifest.bytes},
                  {"checksum_algorithm", kChecksumAlgorithm},
                  {"checksum", manifest.checksum}};
  return json.dump(2) + "\n";
}

Result<Manifest> parse_manifest(std::string_view text) {
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return tl::unexpected(corrupt("not a JSON object"));
  Manifest manifest;
  try {
    manifest.manifest_version = json.at("manifest_version").get<int>();
    if (manifest.manifest_version > kManifestVersion || manifest.manifest_version < 1) {
      return fail(ErrorCode::kUnsupported, "backup manifest version " + std::to_string(manifest.manifest_version) +
                                               " is not one this build reads (1 to " +
                                               std::to_string(kManifestVersion) + ")");
    }
    if (json.at("checksum_algorithm").get<std::string>() != kChecksumAlgorithm) {
      return fail(ErrorCode::kUnsupported, "backup checksum algorithm '" +
                                               json.at("checksum_algorithm").get<std::string>() + "' is unknown");
    }
    auto replica = replica_from_hex(json.at("replica"), "replica");
    if (!replica) return tl::unexpected(replica.error());
    manifest.replica = *replica;
    manifest.store_format = json.at("store_format").get<std::uint32_t>();
    for (const Json& item : json.at("version_vector")) {
      auto entry_replica = replica_from_hex(item.at("replica"), "version_vector replica");
      if (!entry_replica) return tl::unexpected(entry_replica.error());
      manifest.version_vector.push_back(VersionVectorEntry{*entry_replica, item.at("counter").get<std::uint64_t>(),
                                                           item.value("beyond_gap", std::uint64_t{0})});
    }
    manifest.created_unix_ms = json.at("created_unix_ms").get<std::int64_t>();
    manifest.created_utc = json.at("created_utc").get<std::string>();
    manifest.source = json.value("source", std::string());
    manifest.bytes = json.at("bytes").get<std::uint64_t>();
    manifest.checksum = json.at("checksum").get<std::string>();
  } catch (const Json::exception& error) {
    return tl::unexpected(corrupt(error.what()));
  }
  if (manifest.checksum.size() != crypto_generichash_BYTES * 2) return tl::unexpected(corrupt("checksum is not 64 hex digits"));
  return manifest;
}

Checksum::Checksum() {
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_), nullptr, 0, crypto_generichash_BYTES);
}

void Checksum::update(std::string_view bytes) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_),
                            reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string Checksum::hex() {
  unsigned char digest[crypto_generichash_BYTES];
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_), digest, sizeof digest);
  char text[sizeof digest * 2 + 1];
  sodium_bin2hex(text, sizeof text, digest, sizeof digest);
  return text;
}

Result<std::string> checksum_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, "cannot open " + path);
  Checksum checksum;
  std::string buffer(std::size_t{1} << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    checksum.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
  }
  if (in.bad()) return fail(ErrorCode::kIo, "cannot read " + path);
  return checksum.hex();
}

}  // namespace cairn::backup
