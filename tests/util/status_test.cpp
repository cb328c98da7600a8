#include "cairn/status.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>

namespace cairn {
namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return fail(ErrorCode::kInvalidArgument, "value must be positive, got " + std::to_string(value));
  return value;
}

TEST_CASE("a Result holds either the value or an error with code and message") {
  auto good = parse_positive(3);
  REQUIRE(good.has_value());
  CHECK(*good == 3);

  auto bad = parse_positive(-1);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message() == "value must be positive, got -1");
  CHECK(bad.error().to_string() == "invalid_argument: value must be positive, got -1");
}

TEST_CASE("every error code has a distinct, stable name") {
  const ErrorCode codes[] = {ErrorCode::kNotFound,      ErrorCode::kWrongType, ErrorCode::kCorrupt,
                             ErrorCode::kLimitExceeded, ErrorCode::kMapFull,   ErrorCode::kIo,
                             ErrorCode::kProtocol,      ErrorCode::kInvalidArgument,
                             ErrorCode::kUnsupported,   ErrorCode::kUnavailable,
                             ErrorCode::kUnauthenticated, ErrorCode::kOutcomeUnknown,
                             ErrorCode::kOutOfRange};
  std::set<std::string_view> names;
  for (ErrorCode code : codes) {
    CHECK(to_string(code) != "unknown");
    names.insert(to_string(code));
  }
  CHECK(names.size() == std::size(codes));
  CHECK(to_string(ErrorCode::kNotFound) == "not_found");
  CHECK(to_string(ErrorCode::kWrongType) == "wrong_type");
}

TEST_CASE("a Status is ok or an error") {
  Status good = ok();
  CHECK(good.has_value());
  Status bad = fail(ErrorCode::kIo, "disk gone");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == ErrorCode::kIo);
}

}  // namespace
}  // namespace cairn
