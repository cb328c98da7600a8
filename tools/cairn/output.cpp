#include "tools/cairn/output.h"

#include <sodium.h>

#include <cinttypes>

#include "tools/cairn/exit_codes.h"

namespace cairn::cli {
namespace {

// The length of the UTF-8 sequence starting at bytes[i], or 0 when it is not a valid one (overlong
// forms, surrogates and code points past U+10FFFF are invalid, as JSON requires).
std::size_t utf8_sequence_length(std::string_view bytes, std::size_t i) {
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(bytes[at]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  std::uint32_t code_point = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > bytes.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length] || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return length;
}

bool valid_utf8(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t length = utf8_sequence_length(bytes, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

}  // namespace

std::string printable(std::string_view bytes) {
  std::string text;
  text.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t length = utf8_sequence_length(bytes, i);
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (length > 1 || (length == 1 && byte >= 0x20 && byte != 0x7F && byte != '\\')) {
      text.append(bytes.substr(i, length));
      i += length;
      continue;
    }
    char escape[5];
    std::snprintf(escape, sizeof escape, byte == '\\' ? "\\\\" : "\\x%02x", byte);
    text += escape;
    ++i;
  }
  return text;
}

namespace {

std::string base64(std::string_view bytes) {
  std::string encoded(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(encoded.find('\0'));
  return encoded;
}

}  // namespace

void put_bytes(Json& json, const std::string& field, std::string_view bytes) {
  if (valid_utf8(bytes)) {
    json[field] = std::string(bytes);
  } else {
    json[field + "_base64"] = base64(bytes);
  }
}

Json bytes_value(std::string_view bytes) {
  if (valid_utf8(bytes)) return std::string(bytes);
  return Json{{"base64", base64(bytes)}};
}

void Output::document(const Json& json) const { std::printf("%s\n", json.dump().c_str()); }

void Output::line(std::string_view text) const {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

void Output::raw(std::string_view bytes) const { std::fwrite(bytes.data(), 1, bytes.size(), stdout); }

void Output::begin_array() {
  first_item_ = true;
  if (json_) std::fputs("[", stdout);
}

void Output::array_item(const Json& item) {
  if (!json_) return;
  std::printf("%s\n%s", first_item_ ? "" : ",", item.dump().c_str());
  first_item_ = false;
}

void Output::end_array() {
  if (json_) std::fputs(first_item_ ? "]\n" : "\n]\n", stdout);
  first_item_ = true;
}

int Output::failure(const Error& error) const {
  std::fprintf(stderr, "cairn: %s\n", error.message().c_str());
  if (error.code() == ErrorCode::kUnauthenticated) {
    std::fprintf(stderr, "cairn: give the peer's client token (its DATA_DIR/client.token): --data-dir DIR, "
                         "--token-file FILE, --token TOKEN or CAIRN_TOKEN\n");
  }
  if (json_) {
    Json json;
    json["error"] = {{"code", std::string(to_string(error.code()))}, {"message", error.message()}};
    document(json);
  }
  return exit_code_for(error);
}

}  // namespace cairn::cli
