#include "src/http/request_reader.h"

#include <http_parser.h>

#include <climits>
#include <utility>

namespace cairn::http {
namespace {

// http-parser sets content_length to this when a request has no Content-Length header.
constexpr std::uint64_t kNoContentLength = ULLONG_MAX;

std::string lower_case(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string trimmed(const std::string& text) {
  const std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

}  // namespace

struct RequestReader::Impl {
  explicit Impl(RequestLimits request_limits) : limits(request_limits) {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
    http_parser_settings_init(&settings);
    settings.on_message_begin = &Impl::on_message_begin;
    settings.on_url = &Impl::on_url;
    settings.on_header_field = &Impl::on_header_field;
    settings.on_header_value = &Impl::on_header_value;
    settings.on_headers_complete = &Impl::on_headers_complete;
    settings.on_body = &Impl::on_body;
    settings.on_message_complete = &Impl::on_message_complete;
  }

  static Impl& of(http_parser* parser) { return *static_cast<Impl*>(parser->data); }

  // Fails the stream with `status`; returns what a callback returns to make http-parser stop.
  int refuse(int status, std::string why) {
    error_status = status;
    error = std::move(why);
    return -1;
  }

  // Counts `size` more bytes of request line and headers against the limit.
  bool within_header_limit(std::size_t size) {
    header_bytes += size;
    return header_bytes <= limits.max_header_bytes;
  }

  static int on_message_begin(http_parser* parser) {
    Impl& self = of(parser);
    self.request = HttpRequest{};
    self.url.clear();
    self.header_bytes = 0;
    self.body_bytes = 0;
    self.last_was_value = false;
    self.in_request = true;
    return 0;
  }

  static int on_url(http_parser* parser, const char* at, std::size_t size) {
    Impl& self = of(parser);
    if (!self.within_header_limit(size)) return self.refuse(431, "request target and headers too large");
    self.url.append(at, size);
    return 0;
  }

  // A name may arrive in several pieces; a piece after a value starts a new header.
  static int on_header_field(http_parser* parser, const char* at, std::size_t size) {
    Impl& self = of(parser);
    if (!self.within_header_limit(size)) return self.refuse(431, "request target and headers too large");
    auto& headers = self.request.headers;
    if (headers.empty() || self.last_was_value) {
      if (headers.size() >= self.limits.max_header_count) return self.refuse(431, "too many header fields");
      headers.emplace_back();
    }
    headers.back().first.append(at, size);
    self.last_was_value = false;
    return 0;
  }

  static int on_header_value(http_parser* parser, const char* at, std::size_t size) {
    Impl& self = of(parser);
    if (!self.within_header_limit(size)) return self.refuse(431, "request target and headers too large");
    self.request.headers.back().second.append(at, size);
    self.last_was_value = true;
    return 0;
  }

  static int on_headers_complete(http_parser* parser) {
    Impl& self = of(parser);
    if (parser->http_major != 1) return self.refuse(505, "only HTTP/1.x is served");
    if (parser->content_length != kNoContentLength && parser->content_length > self.limits.max_body_bytes) {
      return self.refuse(413, "a body of " + std::to_string(parser->content_length) +
                                  " bytes (the limit is " + std::to_string(self.limits.max_body_bytes) + ")");
    }
    HttpRequest& request = self.request;
    request.method = http_method_str(static_cast<http_method>(parser->method));
    request.http_major = parser->http_major;
    request.http_minor = parser->http_minor;
    for (auto& [name, value] : request.headers) {
      name = lower_case(std::move(name));
      value = trimmed(value);
    }
    return self.split_target(parser->method == HTTP_CONNECT) ? 0
                                                             : self.refuse(400, "unparseable request target");
  }

  // Sets the request's path and query from `url` (origin form "/p?q" or absolute form "http://h/p?q").
  bool split_target(bool is_connect) {
    http_parser_url parts{};
    http_parser_url_init(&parts);
    if (http_parser_parse_url(url.data(), url.size(), is_connect ? 1 : 0, &parts) != 0) return false;
    const auto field = [&](http_parser_url_fields which) {
      if ((parts.field_set & (1u << which)) == 0) return std::string();
      return url.substr(parts.field_data[which].off, parts.field_data[which].len);
    };
    request.path = field(UF_PATH);
    if (request.path.empty()) request.path = "/";
    request.query = field(UF_QUERY);
    return true;
  }

  static int on_body(http_parser* parser, const char*, std::size_t size) {
    Impl& self = of(parser);
    self.body_bytes += size;
    if (self.body_bytes > self.limits.max_body_bytes) {
      return self.refuse(413, "a chunked body over " + std::to_string(self.limits.max_body_bytes) + " bytes");
    }
    return 0;
  }

  // Pauses the parser so that feed() returns at the end of this request.
  static int on_message_complete(http_parser* parser) {
    Impl& self = of(parser);
    // After an upgrade request the rest of the stream is another protocol: this request is the last.
    self.request.keep_alive = http_should_keep_alive(parser) != 0 && parser->upgrade == 0;
    self.complete = true;
    self.in_request = false;
    http_parser_pause(parser, 1);
    return 0;
  }

  RequestLimits limits;
  http_parser parser{};
  http_parser_settings settings{};

  // The request being read.
  HttpRequest request;
  std::string url;
  std::size_t header_bytes = 0;
  std::size_t body_bytes = 0;
  bool last_was_value = false;
  bool in_request = false;
  bool complete = false;  // `request` is complete and not yet taken.

  int error_status = 0;  // 0 until the stream fails.
  std::string error;
};

RequestReader::RequestReader(RequestLimits limits) : impl_(std::make_unique<Impl>(limits)) {}

RequestReader::~RequestReader() = default;

std::size_t RequestReader::feed(std::string_view bytes) {
  Impl& impl = *impl_;
  if (impl.complete || impl.error_status != 0 || bytes.empty()) return 0;
  const std::size_t consumed = http_parser_execute(&impl.parser, &impl.settings, bytes.data(), bytes.size());
  const auto parse_error = HTTP_PARSER_ERRNO(&impl.parser);
  if (parse_error == HPE_OK || parse_error == HPE_PAUSED) return consumed;
  if (impl.error_status == 0) {  // Not refused by a callback: http-parser itself found the fault.
    impl.error_status = parse_error == HPE_HEADER_OVERFLOW ? 431 : 400;
    impl.error = std::string("malformed request: ") + http_errno_description(parse_error);
  }
  impl.complete = false;
  return consumed;
}

std::optional<HttpRequest> RequestReader::take_request() {
  Impl& impl = *impl_;
  if (!impl.complete) return std::nullopt;
  impl.complete = false;
  http_parser_pause(&impl.parser, 0);
  return std::exchange(impl.request, HttpRequest{});
}

bool RequestReader::failed() const { return impl_->error_status != 0; }

int RequestReader::error_status() const { return impl_->error_status; }

const std::string& RequestReader::error() const { return impl_->error; }

bool RequestReader::in_request() const { return impl_->in_request; }

}  // namespace cairn::http
