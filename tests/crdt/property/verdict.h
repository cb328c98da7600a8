// Collecting the failures of one history, so it asserts once. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include "tests/crdt/property/generators.h"

namespace cairn::test {

// ---------------------------------------------------------------------------------------------------
// Collecting failures.

// Gathers every failed expectation of one history, so the history asserts once (Catch assertions in
// the inner loops would dominate the run time). Descriptions are built only on failure.
class Verdict {
 public:
  template <typename Describe>
  void expect(bool holds, Describe&& describe) {
    if (holds) return;
    ok_ = false;
    if (++failures_ <= kMaxReported) {
      why_ << "- ";
      describe(why_);
      why_ << "\n";
    }
  }

  bool ok() const { return ok_; }
  std::string why() const {
    std::ostringstream text;
    text << why_.str();
    if (failures_ > kMaxReported) text << "(" << failures_ - kMaxReported << " more)\n";
    return text.str();
  }

 private:
  static constexpr int kMaxReported = 6;
  bool ok_ = true;
  int failures_ = 0;
  std::ostringstream why_;
};

}  // namespace cairn::test
