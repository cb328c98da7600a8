#include "src/resp/request_reader.h"

#include <algorithm>
#include <utility>

#include "src/resp/inline_args.h"
#include "src/resp/integer.h"

namespace cairn::resp {

RequestReader::RequestReader(RequestLimits limits) : limits_(limits) {}

void RequestReader::append(std::string_view bytes) {
  if (failed_) return;
  compact();
  buffer_.append(bytes);
}

void RequestReader::compact() {
  if (consumed_ == 0) return;
  buffer_.erase(0, consumed_);
  if (line_start_ >= consumed_) {
    line_start_ -= consumed_;
  } else {
    line_searched_ = 0;
  }
  consumed_ = 0;
}

RequestReader::Outcome RequestReader::fail(std::string message) {
  failed_ = true;
  error_ = std::move(message);
  buffer_ = {};
  pending_ = {};
  consumed_ = 0;
  return Outcome::kError;
}

RequestReader::Outcome RequestReader::next(std::vector<std::string>& args) {
  if (failed_) return Outcome::kError;
  while (in_multibulk_ || consumed_ < buffer_.size()) {
    const bool multibulk = in_multibulk_ || buffer_[consumed_] == '*';
    const Outcome outcome = multibulk ? read_multibulk(args) : read_inline(args);
    if (outcome != Outcome::kCommand) return outcome;
    if (!args.empty()) return outcome;  // Empty requests are skipped, as Redis does.
  }
  return Outcome::kNeedMore;
}

std::size_t RequestReader::find_line_end(std::size_t start, char terminator, bool& too_long) {
  // The line may hold max_inline_bytes bytes before its terminator: look that far and no further, so
  // the verdict is the same however the bytes were split. Bytes already searched for this line are not
  // searched again (a line sent a byte at a time costs linear time, not quadratic).
  const std::size_t available = buffer_.size() - start;
  const std::size_t window = std::min(available, limits_.max_inline_bytes + 1);
  const std::size_t searched = (line_start_ == start && line_searched_ <= window) ? line_searched_ : 0;
  const auto begin = buffer_.begin() + static_cast<std::ptrdiff_t>(start);
  const auto end = begin + static_cast<std::ptrdiff_t>(window);
  const auto found = std::find(begin + static_cast<std::ptrdiff_t>(searched), end, terminator);
  if (found != end) return static_cast<std::size_t>(found - buffer_.begin());
  line_start_ = start;
  line_searched_ = window;
  too_long = available > limits_.max_inline_bytes;
  return std::string::npos;
}

RequestReader::Outcome RequestReader::read_inline(std::vector<std::string>& args) {
  bool too_long = false;
  const std::size_t end = find_line_end(consumed_, '\n', too_long);
  if (too_long) return fail("Protocol error: too big inline request");
  if (end == std::string::npos) return Outcome::kNeedMore;
  std::string_view line = std::string_view(buffer_).substr(consumed_, end - consumed_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto split = split_inline_args(line);
  consumed_ = end + 1;
  if (!split) return fail("Protocol error: unbalanced quotes in request");
  args = std::move(*split);
  return Outcome::kCommand;
}

RequestReader::Outcome RequestReader::read_multibulk(std::vector<std::string>& args) {
  if (!in_multibulk_) {
    bool too_long = false;
    const std::size_t end = find_line_end(consumed_, '\r', too_long);
    if (too_long) return fail("Protocol error: too big mbulk count string");
    if (end == std::string::npos || end + 1 >= buffer_.size()) return Outcome::kNeedMore;
    const auto count = parse_int64(std::string_view(buffer_).substr(consumed_ + 1, end - consumed_ - 1));
    if (!count || *count > limits_.max_multibulk_length)
      return fail("Protocol error: invalid multibulk length");
    if (!authenticated_ && *count > limits_.max_unauthenticated_multibulk_length)
      return fail("Protocol error: unauthenticated multibulk length");
    consumed_ = end + 2;
    args.clear();
    if (*count <= 0) return Outcome::kCommand;  // An empty request, skipped.
    in_multibulk_ = true;
    arguments_left_ = static_cast<std::size_t>(*count);
    request_bytes_ = 0;
    bulk_length_ = -1;
    pending_.clear();
    pending_.reserve(std::min(arguments_left_, kReservedArguments));
  }
  while (arguments_left_ > 0) {
    if (bulk_length_ < 0) {
      const Outcome header = read_bulk_header();
      if (header != Outcome::kCommand) return header;
    }
    const auto length = static_cast<std::size_t>(bulk_length_);
    if (buffer_.size() - consumed_ < length + 2) return Outcome::kNeedMore;
    pending_.emplace_back(buffer_, consumed_, length);
    consumed_ += length + 2;
    bulk_length_ = -1;
    --arguments_left_;
  }
  in_multibulk_ = false;
  args = std::exchange(pending_, {});
  return Outcome::kCommand;
}

// Reads a "$<length>\r\n" line into bulk_length_ (kCommand), or needs more bytes, or fails.
RequestReader::Outcome RequestReader::read_bulk_header() {
  bool too_long = false;
  const std::size_t end = find_line_end(consumed_, '\r', too_long);
  if (too_long) return fail("Protocol error: too big bulk count string");
  if (end == std::string::npos || end + 1 >= buffer_.size()) return Outcome::kNeedMore;
  if (buffer_[consumed_] != '$') {
    return fail(std::string("Protocol error: expected '$', got '") + buffer_[consumed_] + "'");
  }
  const auto length = parse_int64(std::string_view(buffer_).substr(consumed_ + 1, end - consumed_ - 1));
  if (!length || *length < 0 || *length > limits_.max_bulk_bytes)
    return fail("Protocol error: invalid bulk length");
  if (!authenticated_ && *length > limits_.max_unauthenticated_bulk_bytes)
    return fail("Protocol error: unauthenticated bulk length");
  request_bytes_ += static_cast<std::size_t>(*length) + kArgumentOverheadBytes;
  if (request_bytes_ > limits_.max_request_bytes) {
    return fail("Protocol error: request of more than " + std::to_string(limits_.max_request_bytes) +
                " bytes");
  }
  consumed_ = end + 2;
  bulk_length_ = *length;
  return Outcome::kCommand;
}

}  // namespace cairn::resp
