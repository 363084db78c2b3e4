#include "server/auth/origin.hpp"

#include <algorithm>

namespace huddle::auth {
namespace {

// The host part of a Host header value: "127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "::1".
std::string_view host_name(std::string_view host) {
  if (host.starts_with('[')) {
    const auto end = host.find(']');
    return end == std::string_view::npos ? std::string_view{} : host.substr(1, end - 1);
  }
  return host.substr(0, host.find(':'));
}

bool is_loopback_name(std::string_view name) {
  return name == "localhost" || name == "::1" || name.starts_with("127.");
}

}  // namespace

bool origin_allowed(std::string_view origin, std::string_view host, bool tls,
                    const std::vector<std::string>& allowed, bool loopback_listener) {
  if (origin.empty() || origin == "null") {
    return false;  // Sandboxed frames, file:// pages, redirects: never trusted.
  }
  if (!allowed.empty()) {
    return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
  }
  if (host.empty() || (loopback_listener && !is_loopback_name(host_name(host)))) {
    return false;  // A loopback server reached through another name: DNS rebinding.
  }
  const std::string_view scheme = tls ? "https://" : "http://";
  return origin.size() == scheme.size() + host.size() && origin.starts_with(scheme) &&
         origin.substr(scheme.size()) == host;
}

}  // namespace huddle::auth
