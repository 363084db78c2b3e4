#include "server/net/static_files.hpp"

#include <array>
#include <fstream>
#include <iterator>
#include <utility>

#include "core/common/ids.hpp"

namespace huddle::net {

namespace {

constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;

struct Type {
  std::string_view extension;
  std::string_view content_type;
};
constexpr std::array kTypes{
    Type{".html", "text/html; charset=utf-8"},
    Type{".js", "text/javascript; charset=utf-8"},
    Type{".mjs", "text/javascript; charset=utf-8"},
    Type{".css", "text/css; charset=utf-8"},
    Type{".svg", "image/svg+xml"},
    Type{".png", "image/png"},
    Type{".ico", "image/x-icon"},
    Type{".json", "application/json"},
};

bool safe_segment(std::string_view s) {
  if (s.empty() || s.front() == '.') {
    return false;
  }
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// "a/b.js" -> true when every segment is safe.
bool safe_relative_path(std::string_view path) {
  while (true) {
    const auto slash = path.find('/');
    if (!safe_segment(path.substr(0, slash))) {
      return false;
    }
    if (slash == std::string_view::npos) {
      return true;
    }
    path.remove_prefix(slash + 1);
  }
}

std::optional<StaticFile> read_file(const std::string& path, std::string_view content_type) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (body.size() > kMaxFileBytes) {
    return std::nullopt;
  }
  return StaticFile{std::string(content_type), std::move(body)};
}

}  // namespace

std::optional<StaticFile> find_static_file(const std::string& web_dir, std::string_view target) {
  if (web_dir.empty()) {
    return std::nullopt;
  }
  const auto path = target.substr(0, target.find('?'));
  // The app shell: the room list, and a shareable room link /r/{room}.
  if (path == "/" || path == "/index.html" ||
      (path.starts_with("/r/") && is_valid_room_id(path.substr(3)))) {
    return read_file(web_dir + "/index.html", kTypes[0].content_type);
  }
  constexpr std::string_view kPrefix = "/web/";
  if (!path.starts_with(kPrefix) || !safe_relative_path(path.substr(kPrefix.size()))) {
    return std::nullopt;
  }
  for (const auto& type : kTypes) {
    if (path.ends_with(type.extension)) {
      return read_file(web_dir + "/" + std::string(path.substr(kPrefix.size())), type.content_type);
    }
  }
  return std::nullopt;
}

}  // namespace huddle::net
