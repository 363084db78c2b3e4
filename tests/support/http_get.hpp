// Plain HTTP/1.1 requests on a fresh loopback connection, for tests of the server's HTTP routes.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace huddle::testing {

struct HttpResponse {
  unsigned status = 0;
  std::string content_type;
  std::string content_disposition;
  std::string body;
  std::map<std::string, std::string> headers;  // Every header, names in lower case.
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::map<std::string, std::string> headers;
  std::string body;
};

// Throws on a connection error or after 10 s.
HttpResponse http_request(std::uint16_t port, const HttpRequest& request);
HttpResponse http_get(std::uint16_t port, const std::string& target);

}  // namespace huddle::testing
