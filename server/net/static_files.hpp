// The web client's files, served from one directory: GET / and /r/{room} -> index.html,
// GET /web/{path} -> {dir}/{path}. Paths are checked before the disk is touched: only
// [A-Za-z0-9._-] segments, no dot-leading segment (so no "..", no hidden files), a known
// extension. Files are read on each request (the client is a few small files; edits show
// without a restart).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace huddle::net {

struct StaticFile {
  std::string content_type;
  std::string body;
};

// The file a GET of `target` names under `web_dir`, or nullopt (not a web-client path, unknown
// type, or missing). `target` may carry a query string; it is ignored.
std::optional<StaticFile> find_static_file(const std::string& web_dir, std::string_view target);

// Headers every web-client response carries: a strict Content-Security-Policy (no inline script
// or style, connections only to this origin) and nosniff.
inline constexpr std::string_view kWebCsp =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

}  // namespace huddle::net
