// How the CLI prints: clear text for people, or JSON (--json) for scripts.
//
// Values and members are bytes. In text they are printed as they are when printable, otherwise with
// \xNN escapes. In JSON a value that is valid UTF-8 is a string field ("value"); any other value is a
// "value_base64" field instead, so no byte is lost or altered.
//
// Streamed listings (keys, smembers, dump) never hold the whole list: text prints a line per item as it
// arrives; JSON prints an array one element at a time ("[", elements, "]"), still one valid document.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::cli {

using Json = nlohmann::ordered_json;

// `bytes` as text for a terminal: printable ASCII and valid UTF-8 as is, anything else as \xNN.
std::string printable(std::string_view bytes);

// Sets json[field] = bytes when they are valid UTF-8, else json[field + "_base64"] = base64(bytes).
void put_bytes(Json& json, const std::string& field, std::string_view bytes);

// `bytes` as a JSON string when valid UTF-8, else as {"base64": "..."} (listings of keys and members).
Json bytes_value(std::string_view bytes);


class Output {
 public:
  explicit Output(bool json) : json_(json) {}
  bool json() const { return json_; }

  // One JSON document on a line of its own.
  void document(const Json& json) const;
  // One line of text.
  void line(std::string_view text) const;
  // `bytes` exactly, nothing added (`get --raw`).
  void raw(std::string_view bytes) const;

  // A streamed JSON array: begin, items, end. In text mode these do nothing (items print as lines).
  void begin_array();
  void array_item(const Json& item);
  void end_array();

  // Reports a failure on stderr (in JSON mode also as {"error":{...}} on stdout) and returns the exit
  // code for it.
  int failure(const Error& error) const;

 private:
  bool json_;
  bool first_item_ = true;
};

}  // namespace cairn::cli
