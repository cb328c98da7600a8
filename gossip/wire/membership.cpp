// The membership family of the peer wire format: Ping, PingAck, PingRequest, and the endpoints and
// member updates they carry (see parts.h for the four steps of every message type).
#include <string>
#include <utility>
#include <vector>

#include "gossip/wire/parts.h"

namespace cairn::gossip::wire_parts {
namespace {

bool is_known(MemberStatus status) {
  switch (status) {
    case MemberStatus::kAlive:
    case MemberStatus::kSuspect:
    case MemberStatus::kDead:
    case MemberStatus::kLeft:
      return true;
  }
  return false;
}

Status check_updates(const std::vector<MemberUpdate>& updates) {
  if (updates.size() > kMaxUpdatesPerMessage) {
    return protocol_error(cat("message carries ", updates.size(), " member updates, over the limit of ",
                              kMaxUpdatesPerMessage));
  }
  for (const MemberUpdate& update : updates) {
    if (!is_known(update.status)) {
      return protocol_error(cat("member update about ", update.id, " has unknown status ",
                                static_cast<unsigned>(update.status)));
    }
    if (auto endpoint = check_endpoint(update.endpoint, "a member update's endpoint"); !endpoint)
      return endpoint;
  }
  return ok();
}

void write_updates(capnp::List<wire_schema::MemberUpdate>::Builder out,
                   const std::vector<MemberUpdate>& updates) {
  for (unsigned i = 0; i < updates.size(); ++i) {
    const MemberUpdate& update = updates[i];
    auto element = out[i];
    element.setId(update.id.value);
    write_endpoint(element.initEndpoint(), update.endpoint);
    element.setStatus(static_cast<wire_schema::MemberStatus>(update.status));
    element.setIncarnation(update.incarnation);
    element.setAccuser(update.accuser.value);
  }
}

Result<std::vector<MemberUpdate>> read_updates(capnp::List<wire_schema::MemberUpdate>::Reader in) {
  if (in.size() > kMaxUpdatesPerMessage) {
    return protocol_error(
        cat("message carries ", in.size(), " member updates, over the limit of ", kMaxUpdatesPerMessage));
  }
  std::vector<MemberUpdate> updates;
  updates.reserve(in.size());
  for (const auto element : in) {
    const auto raw_status = static_cast<unsigned>(element.getStatus());
    if (raw_status > static_cast<unsigned>(MemberStatus::kLeft)) {
      return protocol_error(
          cat("member update about ", PeerId{element.getId()}, " has unknown status ", raw_status));
    }
    auto endpoint = read_endpoint(element.getEndpoint(), "a member update's endpoint");
    if (!endpoint) return forward(endpoint);
    updates.push_back(MemberUpdate{PeerId{element.getId()}, std::move(*endpoint),
                                   static_cast<MemberStatus>(raw_status), element.getIncarnation(),
                                   PeerId{element.getAccuser()}});
  }
  return updates;
}

template <typename Message>
Result<Message> with_updates(Message message, Result<std::vector<MemberUpdate>> updates) {
  if (!updates) return forward(updates);
  message.updates = std::move(*updates);
  return message;
}

std::size_t updates_words(const std::vector<MemberUpdate>& updates) {
  std::size_t words = 1;
  for (const MemberUpdate& update : updates) words += 5 + endpoint_words(update.endpoint);
  return words;
}

}  // namespace

Status check_endpoint(const Endpoint& endpoint, const char* what) {
  if (endpoint.port == 0) return protocol_error(cat(what, " has port 0"));
  if (endpoint.host.empty()) return protocol_error(cat(what, " has an empty host"));
  if (endpoint.host.size() > kMaxHostBytes) {
    return protocol_error(
        cat(what, " has a host of ", endpoint.host.size(), " bytes, over the limit of ", kMaxHostBytes));
  }
  if (endpoint.host.find('\0') != std::string::npos)
    return protocol_error(cat(what, " has a NUL byte in its host"));
  return ok();
}

void write_endpoint(wire_schema::Endpoint::Builder out, const Endpoint& endpoint) {
  out.setHost(as_text(endpoint.host));
  out.setPort(endpoint.port);
}

Result<Endpoint> read_endpoint(wire_schema::Endpoint::Reader in, const char* what) {
  const capnp::Text::Reader host = in.getHost();
  if (host.size() > kMaxHostBytes) {
    return protocol_error(
        cat(what, " has a host of ", host.size(), " bytes, over the limit of ", kMaxHostBytes));
  }
  return Endpoint{std::string(host.begin(), host.size()), in.getPort()};
}

std::size_t endpoint_words(const Endpoint& endpoint) { return 3 + words_for_bytes(endpoint.host.size() + 1); }

Status check_body(const Ping& ping) { return check_updates(ping.updates); }
Status check_body(const PingAck& ack) { return check_updates(ack.updates); }

Status check_body(const PingRequest& request) {
  if (auto target = check_endpoint(request.target_endpoint, "a ping request's target endpoint"); !target) {
    return target;
  }
  return check_updates(request.updates);
}

void write_body(BodyBuilder body, const Ping& ping) {
  auto out = body.initPing();
  out.setProbe(ping.probe);
  write_updates(out.initUpdates(static_cast<unsigned>(ping.updates.size())), ping.updates);
}

void write_body(BodyBuilder body, const PingAck& ack) {
  auto out = body.initPingAck();
  out.setProbe(ack.probe);
  write_updates(out.initUpdates(static_cast<unsigned>(ack.updates.size())), ack.updates);
}

void write_body(BodyBuilder body, const PingRequest& request) {
  auto out = body.initPingRequest();
  out.setProbe(request.probe);
  out.setTarget(request.target.value);
  write_endpoint(out.initTargetEndpoint(), request.target_endpoint);
  write_updates(out.initUpdates(static_cast<unsigned>(request.updates.size())), request.updates);
}

Result<Ping> read_message(wire_schema::Ping::Reader in) {
  return with_updates(Ping{in.getProbe(), {}}, read_updates(in.getUpdates()));
}

Result<PingAck> read_message(wire_schema::PingAck::Reader in) {
  return with_updates(PingAck{in.getProbe(), {}}, read_updates(in.getUpdates()));
}

Result<PingRequest> read_message(wire_schema::PingRequest::Reader in) {
  auto target = read_endpoint(in.getTargetEndpoint(), "a ping request's target endpoint");
  if (!target) return forward(target);
  return with_updates(PingRequest{in.getProbe(), PeerId{in.getTarget()}, std::move(*target), {}},
                      read_updates(in.getUpdates()));
}

std::size_t estimate_words(const Ping& ping) { return updates_words(ping.updates); }
std::size_t estimate_words(const PingAck& ack) { return updates_words(ack.updates); }

std::size_t estimate_words(const PingRequest& request) {
  return endpoint_words(request.target_endpoint) + updates_words(request.updates);
}

}  // namespace cairn::gossip::wire_parts
