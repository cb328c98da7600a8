// What Node::start() reads from its options before anything runs: the seeds' endpoints, the cluster
// keys and the client token (both possibly loaded from, or first created in, the data directory). Kept
// apart from node.cpp because it is parsing and secret files, not the node's lifecycle or wiring.
#pragma once

#include <string>
#include <vector>

#include "cairn/node.h"
#include "cairn/status.h"
#include "gossip/messages.h"
#include "gossip/sealing.h"

namespace cairn::node {

// "host:port" (or "[v6]:port") as an endpoint; kInvalidArgument naming the seed when it is not one.
Result<gossip::Endpoint> parse_endpoint(const std::string& text);

// Every seed as an endpoint; the first that is not host:port fails the whole list.
Result<std::vector<gossip::Endpoint>> parse_seeds(const std::vector<std::string>& texts);

// The cluster keys the peer seals and opens with: options.cluster_keys, or those in
// data_dir/cluster.key (created on first start, and logged). None when insecure and none were given.
// Fails when the file cannot be read or created, or a key does not parse.
Result<std::vector<gossip::ClusterKey>> cluster_keys_for(const NodeOptions& options);

// The token clients must present: options.client_token, or the one in data_dir/client.token
// (created on first start, and logged). Fails when the file cannot be read or created.
Result<std::string> client_token_for(const NodeOptions& options);

}  // namespace cairn::node
