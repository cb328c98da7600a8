// IP literals to socket addresses, for the stream server, the datagram socket
// and the client library. No DNS: code driven by an event loop must not block on a resolver,
// and cairn's addresses are literals (or "localhost").
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "cairn/status.h"

namespace cairn::net {

// The address of `host`:`port`; "localhost" means 127.0.0.1. kInvalidArgument for anything else that
// is not an IPv4 or IPv6 literal.
Result<sockaddr_storage> resolve_ip(const std::string& host, std::uint16_t port);

// The port of an IPv4 or IPv6 address (0 for another family).
std::uint16_t port_of(const sockaddr_storage& address);

// "host:port", with an IPv6 host in brackets ("[::1]:7400"): how error messages name an address.
std::string host_port(const std::string& host, std::uint16_t port);

// "host:port" of an IPv4 address, "[host]:port" of an IPv6 one; "unknown" for another family.
std::string address_text(const sockaddr* address);

}  // namespace cairn::net
