// Helpers shared by the client protocol tests: splitting a byte stream into response frames.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "src/codec/frame.h"
#include "src/protocol/protocol.h"

namespace cairn::test {

// Decodes every whole response frame at the front of `bytes` and removes them; a partial frame stays.
// Fails the test on a frame that is not a valid response.
inline std::vector<protocol::Response> take_responses(std::string& bytes) {
  std::vector<protocol::Response> responses;
  std::size_t start = 0;
  while (bytes.size() - start >= codec::kFrameHeaderBytes) {
    const auto header = codec::parse_frame_header(std::string_view(bytes).substr(start), 1u << 30);
    REQUIRE(header.ok);
    REQUIRE(header.header.type == codec::FrameType::kClientResponse);
    const std::size_t frame_bytes = codec::kFrameHeaderBytes + header.header.payload_length;
    if (bytes.size() - start < frame_bytes) break;
    auto response = protocol::decode_response(
        std::string_view(bytes).substr(start + codec::kFrameHeaderBytes, header.header.payload_length));
    INFO((response ? std::string("decoded") : response.error().to_string()));
    REQUIRE(response.has_value());
    responses.push_back(std::move(*response));
    start += frame_bytes;
  }
  bytes.erase(0, start);
  return responses;
}

// The error a response carries, or a failed test.
inline const Error& error_of(const protocol::Response& response) {
  const auto* error = std::get_if<Error>(&response.body);
  REQUIRE(error != nullptr);
  return *error;
}

template <typename T>
const T& body_of(const protocol::Response& response) {
  if (const auto* error = std::get_if<Error>(&response.body)) FAIL("error reply: " << error->to_string());
  const auto* body = std::get_if<T>(&response.body);
  REQUIRE(body != nullptr);
  return *body;
}

}  // namespace cairn::test
