// HttpListener's connections: reading requests, answering them in order, writing, finishing and
// timing out (see listener.h for the behaviour).
#include <utility>

#include "src/http/listener_impl.h"

namespace cairn::http {

// ---- Reading and answering ----

void HttpListener::Impl::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto& read_buffer = static_cast<Connection*>(handle->data)->owner.read_buffer_;
  *buffer = uv_buf_init(read_buffer.data(), static_cast<unsigned>(read_buffer.size()));
}

void HttpListener::Impl::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
  Connection& connection = *static_cast<Connection*>(stream->data);
  Impl& self = connection.owner;
  if (nread == 0 || connection.closing) return;  // 0: nothing to read now (EAGAIN).
  if (nread == UV_EOF) {
    self.on_peer_closed(connection);
    return;
  }
  if (nread < 0) {  // A socket error: nothing more can be sent either.
    self.close_connection(connection);
    return;
  }
  bump(self.counters_.bytes_received, static_cast<std::uint64_t>(nread));
  connection.last_activity_ms = self.loop_.now_ms();
  if (connection.finishing) return;  // Discarded: the final answer is out.
  connection.pending.append(buffer->base, static_cast<std::size_t>(nread));
  self.process(connection);
}

// Feeds pending bytes to the reader and answers each complete request, in order, until the bytes run
// out, the connection is finishing, or too many answers wait for the client.
void HttpListener::Impl::process(Connection& connection) {
  std::size_t offset = 0;
  while (!connection.closing && !connection.finishing && offset < connection.pending.size() &&
         connection.queued_bytes <= options_.max_queued_response_bytes) {
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
  }
  if (connection.closing) return;
  connection.pending.erase(0, connection.finishing ? connection.pending.size() : offset);
  const bool held_back = connection.queued_bytes > options_.max_queued_response_bytes;
  // After the client's EOF no request can complete beyond what is pending: once that is answered, the
  // connection is finished.
  if (connection.peer_closed && !connection.finishing && !held_back) finish(connection);
  update_reading(connection);
}

// A client may shut down its side right after sending its requests (half-close): their answers are
// still written before the connection closes.
void HttpListener::Impl::on_peer_closed(Connection& connection) {
  connection.peer_closed = true;
  connection.reading = false;  // libuv stops reading at EOF.
  if (!connection.finishing) {
    process(connection);
  } else if (connection.shutdown_done) {
    close_connection(connection);
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
  if (!connection.finishing || connection.shutdown_sent || connection.closing || connection.queued_bytes != 0)
    return;
  connection.shutdown_sent = true;
  if (uv_shutdown(&connection.shutdown, as_stream(&connection.handle), on_shutdown) < 0)
    close_connection(connection);
}

void HttpListener::Impl::on_shutdown(uv_shutdown_t* request, int status) {
  Connection& connection = *static_cast<Connection*>(request->data);
  if (connection.closing) return;
  connection.shutdown_done = true;
  // Done unless the client may still send (it is drained until its EOF or kLingerMs).
  if (status < 0 || connection.peer_closed) connection.owner.close_connection(connection);
}

// Reads while the connection drains after its final answer, or while its unsent answers are within
// the limit (the client reads what it asked for).
void HttpListener::Impl::update_reading(Connection& connection) {
  if (connection.closing || connection.peer_closed) return;
  const bool wanted = connection.finishing || connection.queued_bytes <= options_.max_queued_response_bytes;
  if (wanted == connection.reading) return;
  connection.reading = wanted;
  const int rc = wanted ? uv_read_start(as_stream(&connection.handle), on_alloc, on_read)
                        : uv_read_stop(as_stream(&connection.handle));
  if (rc < 0) close_connection(connection);
}

void HttpListener::Impl::write(Connection& connection, std::string bytes) {
  const std::size_t size = bytes.size();
  if (transport::write_owned(as_stream(&connection.handle), std::move(bytes), &connection, on_write) < 0) {
    close_connection(connection);
    return;
  }
  connection.queued_bytes += size;
}

// libuv completes (or cancels) every write before the connection's close callback: it is alive here.
void HttpListener::Impl::on_write(void* context, std::size_t bytes, int status) {
  Connection& connection = *static_cast<Connection*>(context);
  Impl& self = connection.owner;
  connection.queued_bytes -= bytes;
  if (connection.closing) return;
  if (status < 0) {
    self.close_connection(connection);
    return;
  }
  bump(self.counters_.bytes_sent, bytes);
  connection.last_activity_ms = self.loop_.now_ms();
  if (connection.finishing) {
    self.maybe_shutdown(connection);
  } else {
    self.process(connection);  // Answers pipelined requests held back while the client was behind.
  }
}

// Closes connections that lingered too long after their final answer, sat idle, or took too long
// to send one request.
void HttpListener::Impl::sweep() {
  const std::uint64_t now = loop_.now_ms();
  const std::uint64_t idle = options_.idle_timeout_ms;
  std::vector<Connection*> expired;
  for (auto& [raw, owned] : connections_) {
    const Connection& c = *raw;
    if (c.closing) continue;
    const bool lingered = c.finishing && now - c.finished_ms >= kLingerMs;
    const bool idled =
        !c.finishing && idle != 0 &&
        (now - c.last_activity_ms >= idle || (c.reader.in_request() && now - c.request_started_ms >= idle));
    if (lingered || idled) expired.push_back(raw);
  }
  for (Connection* connection : expired) {
    bump(counters_.connections_timed_out);
    close_connection(*connection);
  }
}

void HttpListener::Impl::close_connection(Connection& connection) {
  if (connection.closing) return;
  connection.closing = true;
  // Stops reading and cancels pending writes and the shutdown (their callbacks run first).
  uv_close(as_handle(&connection.handle), on_connection_closed);
}

void HttpListener::Impl::on_connection_closed(uv_handle_t* handle) {
  auto* connection = static_cast<Connection*>(handle->data);
  Impl& self = connection->owner;
  if (connection->counted) self.counters_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  self.connections_.erase(connection);
  self.handle_closed();
}

}  // namespace cairn::http
