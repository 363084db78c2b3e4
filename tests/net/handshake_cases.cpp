// HTTP upgrade cases (RFC 6455 section 4.2.1-4.2.2, PROTOCOL.md section 1): a request that is
// not a valid opening handshake for /ws with one of our subprotocols never gets a 101.
#include <string>
#include <utility>

#include "tests/net/abuse_cases.hpp"

namespace huddle::testing::abuse {

namespace {

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455's sample: 16 bytes

// An upgrade request built from (name, value) header lines; an empty value drops the line.
std::string request(std::string_view request_line,
                    const std::vector<std::pair<std::string, std::string>>& overrides = {},
                    std::string_view extra_lines = "") {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", "127.0.0.1"},           {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},       {"Sec-WebSocket-Key", std::string(kKey)},
      {"Sec-WebSocket-Version", "13"}, {"Sec-WebSocket-Protocol", "huddle.v1+json"}};
  for (const auto& [name, value] : overrides) {
    bool found = false;
    for (auto& h : headers) {
      if (h.first == name) {
        h.second = value;
        found = true;
      }
    }
    if (!found) {
      headers.emplace_back(name, value);
    }
  }
  std::string out = std::string(request_line) + "\r\n";
  for (const auto& [name, value] : headers) {
    if (!value.empty()) {
      out += name + ": " + value + "\r\n";
    }
  }
  out += extra_lines;
  out += "\r\n";
  return out;
}

constexpr std::string_view kGet = "GET /ws HTTP/1.1";

}  // namespace

std::vector<HandshakeCase> handshake_cases() {
  std::vector<HandshakeCase> t;
  auto add = [&t](std::string name, std::string req, unsigned status,
                  std::map<std::string, std::string> headers = {}, bool closes = true) {
    t.push_back(HandshakeCase{.name = std::move(name),
                              .request = std::move(req),
                              .status = status,
                              .headers = std::move(headers),
                              .closes = closes});
  };
  // Controls: valid variations are accepted.
  add("ValidUpgradeIs101", request(kGet), 101, {{"sec-websocket-protocol", "huddle.v1+json"}});
  add("ValidUpgradeWithTokenListsAndMixedCaseIs101",
      request(kGet, {{"Connection", "keep-alive, Upgrade"},
                     {"Upgrade", "WebSocket"},
                     {"Sec-WebSocket-Protocol", "chat, huddle.v1+proto"}}),
      101, {{"sec-websocket-protocol", "huddle.v1+proto"}});

  // Sec-WebSocket-Key: base64 of exactly 16 bytes (RFC 6455 4.1 item 7, 4.2.1 item 5).
  add("KeyMissingIs400", request(kGet, {{"Sec-WebSocket-Key", ""}}), 400);
  add("KeyEmptyIs400", request(kGet, {{"Sec-WebSocket-Key", ""}}, "Sec-WebSocket-Key:\r\n"), 400);
  add("KeyOf10BytesIs400", request(kGet, {{"Sec-WebSocket-Key", "dGhlIHNhbXBsZQ=="}}), 400);
  add("KeyOf17BytesIs400", request(kGet, {{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZTE="}}), 400);
  add("KeyOf32CharsIs400",
      request(kGet, {{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZSBsb25nZXIh"}}), 400);
  add("KeyNotBase64Is400", request(kGet, {{"Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!=="}}), 400);

  // Sec-WebSocket-Version: 13 only; another version gets 426 naming 13 (4.2.2 item 4).
  add("VersionMissingIs400", request(kGet, {{"Sec-WebSocket-Version", ""}}), 400);
  add("Version12Is426", request(kGet, {{"Sec-WebSocket-Version", "12"}}), 426,
      {{"sec-websocket-version", "13"}});
  add("Version14Is426", request(kGet, {{"Sec-WebSocket-Version", "14"}}), 426,
      {{"sec-websocket-version", "13"}});
  add("VersionGarbageIs426", request(kGet, {{"Sec-WebSocket-Version", "thirteen"}}), 426,
      {{"sec-websocket-version", "13"}});

  // Not an upgrade at all: the plain HTTP routes answer (404 for /ws), never 101.
  add("PostUpgradeIsNever101", request("POST /ws HTTP/1.1", {{"Content-Length", "0"}}), kAny4xx, {},
      false);
  add("Http10UpgradeIsNever101", request("GET /ws HTTP/1.0"), kAny4xx);
  add("UpgradeHeaderMissingIsNever101", request(kGet, {{"Upgrade", ""}}), kAny4xx, {}, false);
  add("UpgradeNotWebsocketIsNever101", request(kGet, {{"Upgrade", "h2c"}}), kAny4xx, {}, false);
  add("ConnectionHeaderMissingIsNever101", request(kGet, {{"Connection", ""}}), kAny4xx, {}, false);
  add("ConnectionWithoutUpgradeIsNever101", request(kGet, {{"Connection", "keep-alive"}}), kAny4xx,
      {}, false);
  add("HostMissingIs400", request(kGet, {{"Host", ""}}), 400);

  // Subprotocols and paths (PROTOCOL.md section 1).
  add("SubprotocolMissingIs400", request(kGet, {{"Sec-WebSocket-Protocol", ""}}), 400);
  add("SubprotocolUnknownIs400", request(kGet, {{"Sec-WebSocket-Protocol", "chat, superchat"}}),
      400);
  add("SubprotocolPrefixIs400", request(kGet, {{"Sec-WebSocket-Protocol", "huddle.v1"}}), 400);
  add("PathUnknownIs404", request("GET /chat HTTP/1.1"), 404);
  add("PathWithTrailingSlashIs404", request("GET /ws/ HTTP/1.1"), 404);

  // Limits: 8 KiB of request head (431), garbage.
  add("HeaderHugeIs431", request(kGet, {{"X-Padding", std::string(16 * 1024, 'p')}}), 431);
  std::string many;
  for (int i = 0; i < 400; ++i) {
    many += "X-Header-" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
  }
  add("HeadersManyIs431", request(kGet, {}, many), 431);
  add("TargetHugeIs431", request("GET /ws?" + std::string(16 * 1024, 'q') + " HTTP/1.1"), 431);
  add("GarbageRequestIsNever101", "HELLO WORLD\r\n\r\n", kNever101);
  add("BinaryGarbageIsNever101",
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n", kNever101);
  return t;
}

}  // namespace huddle::testing::abuse
