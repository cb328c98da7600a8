// The HTTP requests the listener hands to its handler and the responses it writes back: the small
// part of HTTP/1.1 that /health and /metrics need. Plain values; no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::http {

// A complete request, as read by RequestReader.
struct HttpRequest {
  std::string method;  // As sent, upper case: "GET", "HEAD", "POST", ...
  std::string path;    // The request target's path, without query or fragment; percent-escapes kept.
  std::string query;   // After '?', without it; empty when there is none.
  unsigned http_major = 1, http_minor = 1;
  // Header names lower-cased, values as sent (surrounding blanks trimmed), in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  // Whether the connection may carry another request after this one's response (HTTP/1.1 without
  // "Connection: close", or HTTP/1.0 with "Connection: keep-alive").
  bool keep_alive = true;

  // The first header named `name` (lower case), if any.
  std::optional<std::string_view> header(std::string_view name) const;
};

// What a handler answers. The listener adds Content-Length and Connection.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // More header lines (e.g. {"Allow", "GET, HEAD"}); names and values must not hold CR or LF.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The reason phrase of a status code ("OK", "Not Found", ...); "Unknown" for codes not listed.
std::string_view reason_phrase(int status);

// A plain-text response with `status`, its reason phrase as the body (plus a newline).
HttpResponse text_response(int status);

// The response's bytes: status line, Content-Type, Content-Length, Connection ("keep-alive" or
// "close"), the extra headers, a blank line, then the body unless `include_body` is false (the answer
// to HEAD: the same headers, Content-Length included, with no body).
std::string serialize_response(const HttpResponse& response, bool keep_alive, bool include_body = true);

}  // namespace cairn::http
