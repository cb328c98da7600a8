// Test seams of cairn::Node, for tests only: not part of the public API (include/cairn/node.h).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "cairn/node.h"
#include "src/store/replica.h"

namespace cairn::node {

struct NodeTestHooks {
  // Runs on the node's data lane before each received stream frame (deltas, anti-entropy) is handled,
  // with the frame's size. A test makes it sleep to model a merge on a slow disk.
  std::function<void(std::size_t frame_bytes)> before_stream_frame;
  // Called once, on the thread that starts the node, right after the node opened its store, with the
  // store's replication face (src/store/replica.h): a test that checks a running node's delta log
  // keeps the reference, valid until the node is destroyed. Node::store() is the application's face.
  std::function<void(store::Replica&)> store_opened;
};

// Node::start with `hooks` installed.
Result<std::unique_ptr<Node>> start_node_with_test_hooks(const NodeOptions& options, NodeTestHooks hooks);

}  // namespace cairn::node
