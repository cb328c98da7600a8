// Reading one Cap'n Proto message from untrusted bytes (a stored record, a peer's frame payload).
//
// Shared by the store's codec and the peer wire format: the bytes must be whole 8-byte words holding
// exactly one message; they are read in place when aligned and from an aligned copy otherwise (LMDB
// and sockets hand out bytes at any alignment); the reader runs with a traversal and a nesting limit;
// and every exception Cap'n Proto throws on malformed input is caught here and returned as an error.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <kj/exception.h>

#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::codec {

// The words of `bytes`, read in place when 8-byte aligned, otherwise from a copy made in `copy`.
inline kj::ArrayPtr<const capnp::word> aligned_words(std::string_view bytes, kj::Array<capnp::word>& copy) {
  const std::size_t count = bytes.size() / sizeof(capnp::word);
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    return kj::arrayPtr(static_cast<const capnp::word*>(static_cast<const void*>(bytes.data())), count);
  }
  copy = kj::heapArray<capnp::word>(count);
  std::memcpy(copy.begin(), bytes.data(), count * sizeof(capnp::word));
  return copy;
}

struct MessageLimits {
  std::uint64_t traversal_limit_words = 0;
  int nesting_limit = 16;
};

// Parses `bytes` as one message with root `Root` and returns `read(root)`. Every way the bytes can fail
// to be such a message becomes an Error with `code` and a message that starts with `what`.
template <typename Root, typename Read>
auto read_untrusted_message(std::string_view bytes, const MessageLimits& limits, ErrorCode code,
                            std::string_view what, Read&& read) -> decltype(read(std::declval<typename Root::Reader>())) {
  auto failure = [&](auto&&... parts) {
    std::ostringstream text;
    text << what;
    (text << ... << parts);
    return fail(code, text.str());
  };
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return failure(" is ", bytes.size(), " bytes, not a whole positive number of 8-byte words");
  }
  kj::Array<capnp::word> copy;
  const kj::ArrayPtr<const capnp::word> words = aligned_words(bytes, copy);
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = limits.traversal_limit_words;
    options.nestingLimit = limits.nesting_limit;
    capnp::FlatArrayMessageReader reader(words, options);
    if (reader.getEnd() != words.end()) {
      const auto trailing = static_cast<std::size_t>(words.end() - reader.getEnd()) * sizeof(capnp::word);
      return failure(" has ", trailing, " bytes after the end of its message");
    }
    return read(reader.getRoot<Root>());
  } catch (const kj::Exception& exception) {
    return failure(" is malformed: ", exception.getDescription().cStr());
  }
}

}  // namespace cairn::codec
