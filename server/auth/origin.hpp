// The browser Origin check before a WebSocket upgrade (docs/PROTOCOL.md, section 19). Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace huddle::auth {

// `origin`: the Origin header's value (present). `host`: the Host header. `allowed`: the exact
// origins of --allowed-origin; empty means only the server's own (scheme://Host, and on a
// loopback listener only for a loopback Host name, against DNS rebinding). "null" never passes.
[[nodiscard]] bool origin_allowed(std::string_view origin, std::string_view host, bool tls,
                                  const std::vector<std::string>& allowed, bool loopback_listener);

}  // namespace huddle::auth
