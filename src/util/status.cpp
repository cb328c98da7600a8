#include "cairn/status.h"

namespace cairn {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kWrongType: return "wrong_type";
    case ErrorCode::kCorrupt: return "corrupt";
    case ErrorCode::kLimitExceeded: return "limit_exceeded";
    case ErrorCode::kMapFull: return "map_full";
    case ErrorCode::kIo: return "io_error";
    case ErrorCode::kProtocol: return "protocol_error";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kOutcomeUnknown: return "outcome_unknown";
    case ErrorCode::kOutOfRange: return "out_of_range";
    case ErrorCode::kPositionExpired: return "position_expired";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string text(cairn::to_string(code_));
  text += ": ";
  text += message_;
  return text;
}

}  // namespace cairn
