// The node half of the C API (include/cairn/cairn.h): a cairn::Node in-process, its options, and its
// store as a borrowed cairn_store handle.
#include <memory>
#include <string>

#include "src/capi/handles.h"

using cairn::capi::failed;
using cairn::capi::guarded;

extern "C" {

cairn_node_options* cairn_node_options_create(const char* data_dir) {
  try {
    auto options = std::make_unique<cairn_node_options>();
    if (data_dir != nullptr) options->options.data_dir = data_dir;
    return options.release();
  } catch (...) {
    return nullptr;
  }
}

void cairn_node_options_destroy(cairn_node_options* options) { delete options; }

// The setters below copy their strings; a NULL string is ignored (nothing to copy). They may throw
// bad_alloc only, which the guard turns into doing nothing, as a setter has no way to report it.
void cairn_node_options_set_listen(cairn_node_options* options, const char* host, uint16_t port) {
  if (options == nullptr) return;
  guarded([&] {
    if (host != nullptr) options->options.listen_host = host;
    options->options.gossip_port = port;
    return CAIRN_OK;
  });
}

void cairn_node_options_add_seed(cairn_node_options* options, const char* host_port) {
  if (options == nullptr || host_port == nullptr) return;
  guarded([&] {
    options->options.seeds.emplace_back(host_port);
    return CAIRN_OK;
  });
}

void cairn_node_options_add_cluster_key(cairn_node_options* options, const char* key_hex) {
  if (options == nullptr || key_hex == nullptr) return;
  guarded([&] {
    options->options.cluster_keys.emplace_back(key_hex);
    return CAIRN_OK;
  });
}

void cairn_node_options_set_cluster_name(cairn_node_options* options, const char* cluster_name) {
  if (options == nullptr || cluster_name == nullptr) return;
  guarded([&] {
    options->options.cluster_name = cluster_name;
    return CAIRN_OK;
  });
}

void cairn_node_options_set_gossip_interval_ms(cairn_node_options* options, uint64_t interval_ms) {
  if (options) options->options.gossip_interval_ms = interval_ms;
}

void cairn_node_options_set_durability(cairn_node_options* options, cairn_durability durability) {
  if (options) options->options.store.durability = cairn::capi::durability_from_c(durability);
}

cairn_code cairn_node_start(const cairn_node_options* options, cairn_node** node) {
  return guarded([&] {
    if (options == nullptr) return failed(CAIRN_INVALID_ARGUMENT, "options is NULL");
    if (node == nullptr) return failed(CAIRN_INVALID_ARGUMENT, "node is NULL");
    *node = nullptr;
    auto started = cairn::Node::start(options->options);
    if (!started) return failed(started.error());
    auto handle = std::make_unique<cairn_node>();
    handle->node = std::move(*started);
    handle->store.store = &handle->node->store();
    *node = handle.release();  // The caller owns it from here on (cairn_node_stop).
    return CAIRN_OK;
  });
}

cairn_store* cairn_node_store(cairn_node* node) { return node ? &node->store : nullptr; }

uint16_t cairn_node_gossip_port(const cairn_node* node) { return node ? node->node->gossip_port() : 0; }

uint64_t cairn_node_replica_id(const cairn_node* node) { return node ? node->node->replica_id() : 0; }

void cairn_node_stop(cairn_node* node) {
  if (node == nullptr) return;
  {
    // Subscriptions end before the node's store closes, so no callback runs into a freed handle.
    std::lock_guard lock(node->store.subscriptions_mutex);
    for (std::uint64_t id : node->store.subscriptions) node->store.store->unsubscribe(id);
    node->store.subscriptions.clear();
  }
  node->node->stop();
  delete node;
}

}  // extern "C"
