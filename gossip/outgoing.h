// What the gossip state machines ask their driver to send. They never touch a socket: each handler
// returns the messages to send, and the driver (gossip/transport for libuv, gossip/sim for the
// simulator) frames and sends them.
#pragma once

#include <vector>

#include "gossip/messages.h"

namespace cairn::gossip {

enum class Channel : std::uint8_t {
  kDatagram,  // UDP: membership. May be lost, duplicated or reordered.
  kStream,    // TCP: deltas. Ordered per connection, but a connection may drop and lose what was in flight.
};

struct Outgoing {
  Endpoint to;
  Channel channel = Channel::kDatagram;
  Envelope envelope;
};

using Outbox = std::vector<Outgoing>;

}  // namespace cairn::gossip
