// A stand-in for the store's batch write in tests and the RESP fuzzer (no Catch2 here).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "src/resp/batch.h"
#include "src/resp/store_batch_writer.h"

namespace cairn::test {

// A BatchWriter standing in for the store's batch write, which is not there yet: it checks the
// expectations with Store::inspect(), then applies the writes one Store call at a time. That is not
// atomic, which these single-threaded tests cannot tell; it lets them check what the RESP side asks
// for and answers. Every batch it is given is recorded.
class SequentialBatchWriter final : public resp::BatchWriter {
 public:
  explicit SequentialBatchWriter(Store& store) : store_(store) {}

  Result<bool> apply(const std::vector<resp::Expectation>& expectations,
                     const std::vector<resp::WriteOp>& writes) override {
    batches.push_back(writes);
    for (const resp::Expectation& expectation : expectations) {
      auto held = dots_of(expectation.key);
      if (!held) return tl::unexpected(held.error());
      std::vector<InspectedDot> expected = expectation.dots;
      std::sort(expected.begin(), expected.end());
      if (*held != expected) return false;
    }
    for (const resp::WriteOp& write : writes) {
      if (write.kind == resp::WriteOp::Kind::kDeleteAll) {
        if (auto cleared = delete_every_key(); !cleared) return tl::unexpected(cleared.error());
        continue;
      }
      if (auto applied = resp::apply_single_write(store_, write); !applied)
        return tl::unexpected(applied.error());
    }
    return true;
  }

  std::vector<std::vector<resp::WriteOp>> batches;

 private:
  Status delete_every_key() {
    auto cursor = store_.scan("");
    for (;;) {
      auto key = cursor->next();
      if (!key) return tl::unexpected(key.error());
      if (!*key) return ok();
      if (auto deleted = store_.del(**key); !deleted) return deleted;
    }
  }

  // The key's register and counter dots, sorted; a set member makes it match no expectation.
  Result<std::vector<InspectedDot>> dots_of(const std::string& key) {
    auto inspection = store_.inspect(key);
    if (!inspection) {
      if (inspection.error().code() == ErrorCode::kNotFound) return std::vector<InspectedDot>{};
      return tl::unexpected(inspection.error());
    }
    std::vector<InspectedDot> dots;
    for (const RegisterVersion& version : inspection->versions) dots.push_back(version.dot);
    for (const CounterPart& part : inspection->counter_parts) dots.push_back(part.dot);
    if (inspection->member_count > 0) dots.push_back(InspectedDot{~0ull, ~0ull});
    std::sort(dots.begin(), dots.end());
    return dots;
  }

  Store& store_;
};

}  // namespace cairn::test
