// The response writer (src/http/message.h).
#include "src/http/message.h"

#include <catch2/catch.hpp>

namespace cairn::http {

TEST_CASE("a response is written with status line, length, type and connection") {
  HttpResponse response;
  response.content_type = "application/json";
  response.body = R"({"status":"ok"})";
  CHECK(serialize_response(response, /*keep_alive=*/true) ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
        "Connection: keep-alive\r\n\r\n{\"status\":\"ok\"}");
  CHECK(serialize_response(response, /*keep_alive=*/false, /*include_body=*/false) ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
        "Connection: close\r\n\r\n");
}

TEST_CASE("text responses carry their reason phrase and extra headers") {
  HttpResponse response = text_response(405);
  response.headers.emplace_back("Allow", "GET, HEAD");
  CHECK(serialize_response(response, false) ==
        "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 19\r\n"
        "Connection: close\r\nAllow: GET, HEAD\r\n\r\nMethod Not Allowed\n");
  CHECK(reason_phrase(404) == "Not Found");
  CHECK(reason_phrase(413) == "Content Too Large");
  CHECK(reason_phrase(431) == "Request Header Fields Too Large");
  CHECK(reason_phrase(299) == "Unknown");
}

}  // namespace cairn::http
