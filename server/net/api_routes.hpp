// The HTTP API beside the WebSocket: the public export and the operator's admin API.
//
//   GET    /api/v1/rooms/{id}/export?format=md|csv|json   the board as an outsider sees it
//   GET    /api/v1/admin/rooms                            every room with stats (RoomList)
//   GET    /api/v1/admin/rooms/{id}                       one room (RoomDetails)
//   POST   /api/v1/admin/rooms/{id}/archive[?reason=R]    read-only from now on (RoomArchived)
//   DELETE /api/v1/admin/rooms/{id}                       the room and its history
//   GET    /api/v1/admin/rooms/{id}/export?format=F       the export of any room
//
// Admin requests need `Authorization: Bearer <token>` matching --admin-token-file (401
// otherwise, compared in constant time); with no token configured the admin API answers 403.
// Bodies are proto3 JSON of proto/huddle/admin/v1/admin.proto. No Beast here: the caller does
// the HTTP I/O.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/net/net_context.hpp"

namespace huddle::net {

struct ApiResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};
// Called exactly once, on any thread.
using ApiRespond = std::function<void(ApiResponse)>;

// True for targets under /api/v1/ that route_api() answers.
[[nodiscard]] bool is_api_target(std::string_view target);

void route_api(NetContext& ctx, std::string_view method, std::string_view target,
               std::string_view authorization, ApiRespond respond);

}  // namespace huddle::net
