#include "tests/support/http_get.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace huddle::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

HttpResponse http_request(std::uint16_t port, const HttpRequest& request) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{http::string_to_verb(request.method), request.target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : request.headers) {
    req.set(name, value);
  }
  req.body() = request.body;
  req.keep_alive(false);
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buf, parser);
  const auto& res = parser.get();
  HttpResponse out{.status = res.result_int(),
                   .content_type = std::string(res[http::field::content_type]),
                   .content_disposition = std::string(res[http::field::content_disposition]),
                   .body = res.body(),
                   .headers = {}};
  for (const auto& field : res) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string(field.value());
  }
  return out;
}

HttpResponse http_get(std::uint16_t port, const std::string& target) {
  return http_request(port,
                      HttpRequest{.method = "GET", .target = target, .headers = {}, .body = {}});
}

}  // namespace huddle::testing
