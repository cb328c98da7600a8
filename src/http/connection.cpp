// HttpListener's connections: reading requests, answering them in order, writing, finishing and
// timing out (see listener.h for the behaviour).
#include <utility>
#include <vector>

#include "src/http/listener_impl.h"

namespace cairn::http {

HttpListener::Impl::Connection* HttpListener::Impl::find(net::ConnectionId id) {
  auto found = connections_.find(id);
  return found == connections_.end() ? nullptr : found->second.get();
}

// ---- Reading and answering ----

void HttpListener::Impl::on_data(net::ConnectionId id, std::string_view bytes) {
  Connection* connection = find(id);
  if (connection == nullptr) return;
  bump(counters_.bytes_received, bytes.size());
  connection->last_activity_ms = loop_.now_ms();
  if (connection->finishing) return;  // Discarded: the final answer is out.
  connection->pending.append(bytes);
  process(*connection);
}

// Feeds pending bytes to the reader and answers each complete request, in order, until the bytes run
// out, the connection is finishing, or too many answers wait for the client.
void HttpListener::Impl::process(Connection& connection) {
  const net::ConnectionId id = connection.id;
  std::size_t offset = 0;
  while (!connection.finishing && offset < connection.pending.size() &&
         server_.queued_bytes(id) <= options_.max_queued_response_bytes) {
    const bool was_in_request = connection.reader.in_request();
    const std::size_t consumed = connection.reader.feed(std::string_view(connection.pending).substr(offset));
    offset += consumed;
    if (!was_in_request && connection.reader.in_request()) connection.request_started_ms = loop_.now_ms();
    if (auto request = connection.reader.take_request()) {
      answer(connection, *request);
    } else if (connection.reader.failed()) {
      refuse(connection);
    } else if (consumed == 0) {
      break;  // Cannot happen (the reader consumes what it does not stop at); never spin.
    }
    if (find(id) == nullptr) return;  // Closed (a write failed at once).
  }
  connection.pending.erase(0, connection.finishing ? connection.pending.size() : offset);
  const bool held_back = server_.queued_bytes(id) > options_.max_queued_response_bytes;
  // After the client's EOF no request can complete beyond what is pending: once that is answered, the
  // connection is finished.
  if (connection.peer_closed && !connection.finishing && !held_back) finish(connection);
  if (find(id) != nullptr) update_reading(connection);
}

// A client may shut down its side right after sending its requests (half-close): their answers are
// still written before the connection closes.
void HttpListener::Impl::on_end(net::ConnectionId id) {
  Connection* connection = find(id);
  if (connection == nullptr) return;
  connection->peer_closed = true;
  connection->reading = false;  // The stream server stops reading at EOF.
  if (!connection->finishing) {
    process(*connection);
  } else if (connection->shutdown_done) {
    server_.close(id);
  }  // Otherwise on_shutdown closes it.
}

void HttpListener::Impl::answer(Connection& connection, const HttpRequest& request) {
  bump(counters_.requests);
  const bool head = request.method == "HEAD";
  HttpResponse response;
  if (!head && request.method != "GET") {
    response = text_response(405);
    response.headers.emplace_back("Allow", "GET, HEAD");
  } else {
    response = call_handler(request);
  }
  const bool keep_alive = request.keep_alive && !closing_;
  write(connection, serialize_response(response, keep_alive, /*include_body=*/!head));
  if (!keep_alive) finish(connection);
}

HttpResponse HttpListener::Impl::call_handler(const HttpRequest& request) {
  try {
    if (handler_) return handler_(request);
  } catch (...) {  // No exception may unwind through libuv's C frames.
  }
  bump(counters_.handler_failures);
  return text_response(500);
}

void HttpListener::Impl::refuse(Connection& connection) {
  bump(counters_.bad_requests);
  write(connection,
        serialize_response(text_response(connection.reader.error_status()), /*keep_alive=*/false));
  finish(connection);
}

// The final answer is queued: shut our side down once it is written, then drain until the client's EOF.
void HttpListener::Impl::finish(Connection& connection) {
  connection.finishing = true;
  connection.finished_ms = loop_.now_ms();
  maybe_shutdown(connection);
}

void HttpListener::Impl::maybe_shutdown(Connection& connection) {
  if (!connection.finishing || connection.shutdown_sent || server_.queued_bytes(connection.id) != 0) return;
  connection.shutdown_sent = true;
  server_.shutdown(connection.id);
}

void HttpListener::Impl::on_shutdown(net::ConnectionId id, bool ok) {
  Connection* connection = find(id);
  if (connection == nullptr) return;
  connection->shutdown_done = true;
  // Done unless the client may still send (it is drained until its EOF or kLingerMs).
  if (!ok || connection->peer_closed) server_.close(id);
}

// Reads while the connection drains after its final answer, or while its unsent answers are within
// the limit (the client reads what it asked for).
void HttpListener::Impl::update_reading(Connection& connection) {
  if (connection.peer_closed) return;
  const bool wanted =
      connection.finishing || server_.queued_bytes(connection.id) <= options_.max_queued_response_bytes;
  if (wanted == connection.reading) return;
  connection.reading = wanted;
  server_.set_reading(connection.id, wanted);
}

void HttpListener::Impl::write(Connection& connection, std::string bytes) {
  server_.write(connection.id, std::move(bytes));
}

void HttpListener::Impl::on_written(net::ConnectionId id, std::size_t, std::size_t bytes, bool ok) {
  Connection* connection = find(id);
  if (connection == nullptr || !ok) return;  // A failed write closes the connection.
  bump(counters_.bytes_sent, bytes);
  connection->last_activity_ms = loop_.now_ms();
  if (connection->finishing) {
    maybe_shutdown(*connection);
  } else {
    process(*connection);  // Answers pipelined requests held back while the client was behind.
  }
}

// Closes connections that lingered too long after their final answer, sat idle, or took too long
// to send one request.
void HttpListener::Impl::sweep() {
  const std::uint64_t now = loop_.now_ms();
  const std::uint64_t idle = options_.idle_timeout_ms;
  std::vector<net::ConnectionId> expired;
  for (auto& [id, owned] : connections_) {
    const Connection& c = *owned;
    const bool lingered = c.finishing && now - c.finished_ms >= kLingerMs;
    const bool idled =
        !c.finishing && idle != 0 &&
        (now - c.last_activity_ms >= idle || (c.reader.in_request() && now - c.request_started_ms >= idle));
    if (lingered || idled) expired.push_back(id);
  }
  for (net::ConnectionId id : expired) {
    bump(counters_.connections_timed_out);
    server_.close(id);
  }
}

void HttpListener::Impl::on_closing(net::ConnectionId id, net::CloseReason, std::size_t) {
  if (connections_.erase(id) != 0) counters_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace cairn::http
