// See node_setup.h.
#include "src/node/node_setup.h"

#include <charconv>
#include <system_error>
#include <utility>

#include "src/util/log.h"
#include "src/util/secret_file.h"

namespace cairn::node {
namespace {

std::string random_secret_hex() { return gossip::cluster_key_to_hex(gossip::random_cluster_key()); }

}  // namespace

Result<gossip::Endpoint> parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return fail(ErrorCode::kInvalidArgument, "seed '" + text + "' is not host:port");
  }
  std::uint16_t port = 0;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || ptr != end || port == 0) {
    return fail(ErrorCode::kInvalidArgument, "seed '" + text + "' has no valid port");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return gossip::Endpoint{host, port};
}

Result<std::vector<gossip::Endpoint>> parse_seeds(const std::vector<std::string>& texts) {
  std::vector<gossip::Endpoint> seeds;
  for (const std::string& seed : texts) {
    auto endpoint = parse_endpoint(seed);
    if (!endpoint) return tl::unexpected(endpoint.error());
    seeds.push_back(*endpoint);
  }
  return seeds;
}

Result<std::vector<gossip::ClusterKey>> cluster_keys_for(const NodeOptions& options) {
  std::vector<std::string> texts = options.cluster_keys;
  if (texts.empty() && !options.insecure) {
    const std::string path = options.data_dir + "/cluster.key";
    bool created = false;
    auto loaded = secrets::load_or_create_secret_file(path, random_secret_hex, created);
    if (!loaded) return fail(loaded.error().code(), "cluster key: " + loaded.error().message());
    texts = std::move(*loaded);
    if (created) {
      log::info("security", "created a new cluster key in " + path +
                                " (mode 0600). Peers join this cluster only with the same key: copy this file to "
                                "each peer and start it with --cluster-key-file FILE (or cluster_key_file in its "
                                "config), or into its data directory before its first start");
    } else if (secrets::readable_by_others(path)) {
      log::warn("security", path + " is readable by other users; chmod 600 it");
    }
  }
  std::vector<gossip::ClusterKey> keys;
  for (const std::string& text : texts) {
    auto key = gossip::parse_cluster_key(text);
    if (!key) return tl::unexpected(key.error());
    keys.push_back(*key);
  }
  return keys;
}

Result<std::string> client_token_for(const NodeOptions& options) {
  if (!options.client_token.empty()) return options.client_token;
  const std::string path = options.data_dir + "/client.token";
  bool created = false;
  auto loaded = secrets::load_or_create_secret_file(path, random_secret_hex, created);
  if (!loaded) return fail(loaded.error().code(), "client token: " + loaded.error().message());
  if (created) {
    log::info("security", "created a client token in " + path +
                              " (mode 0600); the cairn CLI finds it with --data-dir, or pass it with --token-file");
  }
  return loaded->front();
}

}  // namespace cairn::node
