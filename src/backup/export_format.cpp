#include "src/backup/export_format.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "src/util/hex_id.h"

namespace cairn::backup {
namespace {

using Json = nlohmann::ordered_json;

// True when nlohmann-json can write `bytes` as a JSON string (it checks UTF-8 strictly).
bool is_utf8(std::string_view bytes) {
  try {
    (void)Json(std::string(bytes)).dump();
    return true;
  } catch (const Json::type_error&) {
    return false;
  }
}

Json bytes_to_json(std::string_view bytes) {
  if (is_utf8(bytes)) return std::string(bytes);
  std::string encoded(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(encoded.find('\0'));
  return Json{{"base64", encoded}};
}

Result<std::string> bytes_from_json(const Json& json, const char* what) {
  if (json.is_string()) return json.get<std::string>();
  if (json.is_object() && json.size() == 1 && json.contains("base64") && json["base64"].is_string()) {
    const std::string encoded = json["base64"].get<std::string>();
    std::string bytes(encoded.size(), '\0');
    std::size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), encoded.data(), encoded.size(),
                          nullptr, &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
      return fail(ErrorCode::kInvalidArgument, std::string(what) + " is not valid base64");
    }
    bytes.resize(length);
    return bytes;
  }
  return fail(ErrorCode::kInvalidArgument, std::string(what) + " is neither a string nor {\"base64\": ...}");
}

}  // namespace

std::string encode_exported_key(const ExportedKey& key) {
  Json json{{"key", bytes_to_json(key.key)}, {"type", to_string(key.kind)}};
  switch (key.kind) {
    case ValueKind::kRegister: json["value"] = bytes_to_json(key.value); break;
    case ValueKind::kCounter: json["value"] = key.counter; break;
    case ValueKind::kSet: {
      Json members = Json::array();
      for (const std::string& member : key.members) members.push_back(bytes_to_json(member));
      json["members"] = std::move(members);
      break;
    }
  }
  if (key.with_metadata) {
    if (key.kind == ValueKind::kRegister) {
      Json concurrent = Json::array();
      for (const std::string& value : key.concurrent) concurrent.push_back(bytes_to_json(value));
      json["concurrent"] = std::move(concurrent);
    }
    Json vector = Json::array();
    for (const auto& [replica, counter] : key.version_vector) vector.push_back(Json{{"replica", hex_id(replica)}, {"counter", counter}});
    json["version_vector"] = std::move(vector);
  }
  return json.dump();
}

Result<ExportedKey> decode_exported_key(std::string_view line) {
  const Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return fail(ErrorCode::kInvalidArgument, "not a JSON object");
  if (!json.contains("key") || !json.contains("type") || !json["type"].is_string()) {
    return fail(ErrorCode::kInvalidArgument, "needs \"key\" and \"type\"");
  }
  ExportedKey out;
  auto key = bytes_from_json(json["key"], "key");
  if (!key) return tl::unexpected(key.error());
  out.key = std::move(*key);
  const std::string type = json["type"].get<std::string>();
  if (type == "register") {
    out.kind = ValueKind::kRegister;
    if (!json.contains("value")) return fail(ErrorCode::kInvalidArgument, "a register needs \"value\"");
    auto value = bytes_from_json(json["value"], "value");
    if (!value) return tl::unexpected(value.error());
    out.value = std::move(*value);
  } else if (type == "counter") {
    out.kind = ValueKind::kCounter;
    if (!json.contains("value") || !json["value"].is_number_integer()) {
      return fail(ErrorCode::kInvalidArgument, "a counter needs an integer \"value\"");
    }
    if (json["value"].is_number_unsigned() && json["value"].get<std::uint64_t>() > std::uint64_t(INT64_MAX)) {
      return fail(ErrorCode::kOutOfRange, "counter value is outside the int64 range");
    }
    out.counter = json["value"].get<std::int64_t>();
  } else if (type == "set") {
    out.kind = ValueKind::kSet;
    if (!json.contains("members") || !json["members"].is_array()) {
      return fail(ErrorCode::kInvalidArgument, "a set needs a \"members\" array");
    }
    out.members.reserve(json["members"].size());
    for (const Json& member : json["members"]) {
      auto bytes = bytes_from_json(member, "member");
      if (!bytes) return tl::unexpected(bytes.error());
      out.members.push_back(std::move(*bytes));
    }
  } else {
    return fail(ErrorCode::kInvalidArgument, "unknown type '" + type + "' (register, set or counter)");
  }
  return out;
}

}  // namespace cairn::backup
