// A plain HTTP/1.1 GET on a fresh loopback connection, for tests of the server's HTTP routes.
#pragma once

#include <cstdint>
#include <string>

namespace huddle::testing {

struct HttpResponse {
  unsigned status = 0;
  std::string content_type;
  std::string content_disposition;
  std::string body;
};

// Throws on a connection error or after 10 s.
HttpResponse http_get(std::uint16_t port, const std::string& target);

}  // namespace huddle::testing
