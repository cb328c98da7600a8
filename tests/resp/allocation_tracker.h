// Watches the heap of the test binary: the largest single allocation since the last reset. The RESP
// tests use it to show that a request header announcing a huge size allocates nothing of that size
// (allocation_tracker.cpp replaces the global operator new of tests/resp's binary).
#pragma once

#include <cstddef>

namespace cairn::test {

// Forgets what was seen so far.
void reset_largest_allocation();
// The largest single allocation (bytes) since the last reset, on any thread.
std::size_t largest_allocation();

}  // namespace cairn::test
