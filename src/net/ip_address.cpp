#include "src/net/ip_address.h"

#include <netinet/in.h>
#include <uv.h>

#include <cstring>

namespace cairn::net {

Result<sockaddr_storage> resolve_ip(const std::string& host, std::uint16_t port) {
  const std::string literal = host == "localhost" ? "127.0.0.1" : host;
  sockaddr_storage address{};
  if (literal.find('\0') == std::string::npos) {
    sockaddr_in v4{};
    sockaddr_in6 v6{};
    if (uv_ip4_addr(literal.c_str(), port, &v4) == 0) {
      std::memcpy(&address, &v4, sizeof v4);
      return address;
    }
    if (uv_ip6_addr(literal.c_str(), port, &v6) == 0) {
      std::memcpy(&address, &v6, sizeof v6);
      return address;
    }
  }
  return fail(ErrorCode::kInvalidArgument,
              "'" + host + "' is not an IPv4 or IPv6 address or \"localhost\" (no DNS lookups are made)");
}

std::uint16_t port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, &address, sizeof v4);
    return ntohs(v4.sin_port);
  }
  if (address.ss_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, &address, sizeof v6);
    return ntohs(v6.sin6_port);
  }
  return 0;
}

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool bracket = host.find(':') != std::string::npos;
  return (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string address_text(const sockaddr* address) {
  char host[64] = {};
  if (address != nullptr && address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    uv_ip4_name(v4, host, sizeof host);
    return host_port(host, ntohs(v4->sin_port));
  }
  if (address != nullptr && address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    uv_ip6_name(v6, host, sizeof host);
    return host_port(host, ntohs(v6->sin6_port));
  }
  return "unknown";
}

}  // namespace cairn::net
