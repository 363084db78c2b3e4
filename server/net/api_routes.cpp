#include "server/net/api_routes.hpp"

#include <algorithm>
#include <memory>
#include <optional>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "core/board/export.hpp"
#include "huddle/admin/v1/admin.pb.h"
#include "server/room/room.hpp"
#include "server/util/log.hpp"

namespace huddle::net {

namespace {

namespace admin = huddle::admin::v1;

constexpr std::string_view kApi = "/api/v1/";
constexpr std::string_view kAdminRooms = "/api/v1/admin/rooms";
constexpr std::size_t kMaxReasonBytes = 256;

std::string to_json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) {
    return "{}";
  }
  return out + "\n";
}

ApiResponse json(unsigned status, const google::protobuf::Message& m) {
  return ApiResponse{
      .status = status, .content_type = "application/json", .body = to_json(m), .headers = {}};
}

ApiResponse error(unsigned status, std::string_view message) {
  admin::ErrorBody body;
  body.set_error(std::string(message));
  return json(status, body);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// application/x-www-form-urlencoded value -> bytes; nullopt on a bad escape.
std::optional<std::string> url_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) {
        return std::nullopt;
      }
      const int hi = hex_digit(in[i + 1]);
      const int lo = hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// The value of `name` in the query string of `target` ("" when absent).
std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) {
    return std::string();
  }
  auto query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    if (param.size() > name.size() && param.starts_with(name) && param[name.size()] == '=') {
      return url_decode(param.substr(name.size() + 1));
    }
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return std::string();
}

// Constant time in the length of `expected`: a wrong token's prefix is not timed out of it.
bool token_matches(std::string_view given, std::string_view expected) {
  unsigned diff = given.size() == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned>(static_cast<unsigned char>(g) ^
                                  static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

admin::RoomSummary summary_of(const huddle::v1::RoomInfo& info) {
  admin::RoomSummary s;
  s.set_room_id(info.room_id());
  s.set_title(info.title());
  s.set_created_unix_ms(info.created_unix_ms());
  s.set_created_by(info.created_by().member_id());
  return s;
}

void export_room(NetContext& ctx, const std::string& room_id, std::string_view format_name,
                 ApiRespond respond) {
  const auto format = board::parse_export_format(format_name.empty() ? "md" : format_name);
  if (format == huddle::v1::EXPORT_FORMAT_UNSPECIFIED) {
    return respond(error(400, "format must be md, csv or json"));
  }
  std::shared_ptr<room::Room> room =
      is_valid_room_id(room_id) ? ctx.rooms->find(RoomId{room_id}) : nullptr;
  if (!room) {
    return respond(error(404, "no such room"));
  }
  // Rendered on the room's shard: an outsider's view (no hidden text, no anonymous authors).
  room->export_board(
      format, [room_id, respond = std::move(respond)](Result<board::ExportDocument> doc) {
        if (!doc) {
          return respond(error(doc.error() == make_error_code(Errc::kRoomNotFound) ? 404 : 500,
                               doc.error().message()));
        }
        respond(ApiResponse{
            .status = 200,
            .content_type = doc->content_type,
            .body = std::move(doc->body),
            .headers = {{"Content-Disposition", fmt::format("attachment; filename=\"{}.{}\"",
                                                            room_id, doc->file_extension)}}});
      });
}

void list_rooms(NetContext& ctx, ApiRespond respond) {
  // Heads of rooms not in memory are read from the store: off the I/O shards.
  auto& rctx = ctx.rooms->context();
  boost::asio::post(rctx.reader, [&ctx, &rctx, respond = std::move(respond)] {
    admin::RoomList list;
    for (const auto& info : ctx.rooms->list()) {
      auto* s = list.add_rooms();
      *s = summary_of(info);
      const RoomId id{info.room_id()};
      if (auto room = ctx.rooms->loaded(id)) {
        s->set_loaded(true);
        s->set_connections(static_cast<std::uint32_t>(room->connections()));
      }
      if (auto head = rctx.log->head(id)) {
        s->set_head_seq(head->value());
      }
    }
    respond(json(200, list));
  });
}

void room_details(NetContext& ctx, const std::string& room_id, ApiRespond respond) {
  auto room = ctx.rooms->find(RoomId{room_id});
  if (!room) {
    return respond(error(404, "no such room"));
  }
  room->stats([respond = std::move(respond)](Result<room::Room::Stats> stats) {
    if (!stats) {
      return respond(error(404, stats.error().message()));
    }
    const auto& b = stats->board;
    admin::RoomDetails d;
    *d.mutable_summary() = summary_of(b.room());
    d.mutable_summary()->set_loaded(true);
    d.mutable_summary()->set_head_seq(stats->head_seq);
    d.mutable_summary()->set_connections(static_cast<std::uint32_t>(stats->connections));
    d.set_phase(b.phase().phase());
    d.set_archived(b.archived());
    d.set_roster_size(static_cast<std::uint32_t>(b.roster_size()));
    d.set_members_online(static_cast<std::uint32_t>(stats->members_online));
    d.set_ideas(static_cast<std::uint32_t>(b.ideas_size()));
    d.set_hidden_ideas(static_cast<std::uint32_t>(b.hidden_idea_count()));
    d.set_groups(static_cast<std::uint32_t>(b.groups_size()));
    d.set_actions(static_cast<std::uint32_t>(b.actions_size()));
    d.set_chat_messages(b.chat_message_count());
    std::uint64_t votes = 0;
    for (const auto& idea : b.ideas()) {
      votes += idea.vote_count();
    }
    d.set_votes_cast(votes);
    respond(json(200, d));
  });
}

void archive_room(NetContext& ctx, const std::string& room_id, std::string reason,
                  ApiRespond respond) {
  auto room = ctx.rooms->find(RoomId{room_id});
  if (!room) {
    return respond(error(404, "no such room"));
  }
  room->archive(std::move(reason), [room_id,
                                    respond = std::move(respond)](boost::system::error_code ec) {
    if (ec == make_error_code(Errc::kRoomArchived)) {
      return respond(error(409, "room already archived"));
    }
    if (ec) {
      return respond(error(ec == make_error_code(Errc::kRoomNotFound) ? 404 : 503, ec.message()));
    }
    log::app()->info("admin archived room={}", room_id);
    admin::ActionResult r;
    r.set_room_id(room_id);
    r.set_action("archived");
    respond(json(200, r));
  });
}

void delete_room(NetContext& ctx, const std::string& room_id, ApiRespond respond) {
  ctx.rooms->remove(RoomId{room_id}, "deleted by an operator",
                    [room_id, respond = std::move(respond)](boost::system::error_code ec) {
                      if (ec) {
                        return respond(error(ec == make_error_code(Errc::kRoomNotFound) ? 404 : 503,
                                             ec.message()));
                      }
                      log::app()->info("admin deleted room={}", room_id);
                      admin::ActionResult r;
                      r.set_room_id(room_id);
                      r.set_action("deleted");
                      respond(json(200, r));
                    });
}

void route_admin(NetContext& ctx, std::string_view method, std::string_view target,
                 std::string_view authorization, ApiRespond respond) {
  const std::string& token = ctx.options.admin_token;
  if (token.empty()) {
    return respond(error(403, "admin API disabled: start huddle-server with --admin-token-file"));
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer) ||
      !token_matches(authorization.substr(kBearer.size()), token)) {
    auto res = error(401, "admin token required: Authorization: Bearer <token>");
    res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"huddle-admin\"");
    return respond(std::move(res));
  }
  const auto path = target.substr(0, target.find('?'));
  if (path == kAdminRooms) {
    if (method != "GET") {
      return respond(error(405, "use GET"));
    }
    return list_rooms(ctx, std::move(respond));
  }
  if (!path.starts_with(kAdminRooms) || path.size() <= kAdminRooms.size() + 1 ||
      path[kAdminRooms.size()] != '/') {
    return respond(error(404, "no such admin route"));
  }
  auto rest = path.substr(kAdminRooms.size() + 1);  // "{id}" or "{id}/archive" or "{id}/export"
  const auto slash = rest.find('/');
  const std::string room_id(rest.substr(0, slash));
  const auto action = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (!is_valid_room_id(room_id)) {
    return respond(error(404, "no such room"));
  }
  if (action.empty()) {
    if (method == "GET") {
      return room_details(ctx, room_id, std::move(respond));
    }
    if (method == "DELETE") {
      return delete_room(ctx, room_id, std::move(respond));
    }
    return respond(error(405, "use GET or DELETE"));
  }
  if (action == "archive") {
    if (method != "POST") {
      return respond(error(405, "use POST"));
    }
    auto reason = query_param(target, "reason");
    if (!reason || reason->size() > kMaxReasonBytes) {
      return respond(error(400, "reason: at most 256 bytes, URL-encoded"));
    }
    return archive_room(ctx, room_id, std::move(*reason), std::move(respond));
  }
  if (action == "export") {
    if (method != "GET") {
      return respond(error(405, "use GET"));
    }
    auto format = query_param(target, "format");
    return export_room(ctx, room_id, format ? *format : "?", std::move(respond));
  }
  respond(error(404, "no such admin route"));
}

}  // namespace

bool is_api_target(std::string_view target) {
  return target.starts_with(kApi);
}

void route_api(NetContext& ctx, std::string_view method, std::string_view target,
               std::string_view authorization, ApiRespond respond) {
  const auto path = target.substr(0, target.find('?'));
  if (path.starts_with("/api/v1/admin/") || path == "/api/v1/admin") {
    return route_admin(ctx, method, target, authorization, std::move(respond));
  }
  // GET /api/v1/rooms/{id}/export
  constexpr std::string_view kRooms = "/api/v1/rooms/";
  constexpr std::string_view kExport = "/export";
  if (path.starts_with(kRooms) && path.ends_with(kExport) &&
      path.size() > kRooms.size() + kExport.size()) {
    if (method != "GET") {
      return respond(error(405, "use GET"));
    }
    const std::string room_id(
        path.substr(kRooms.size(), path.size() - kRooms.size() - kExport.size()));
    // Who may read: anyone in open auth; an authenticated member (Bearer member token) in JWT
    // auth. A private room only with a grant for it in that token (members admitted by invite
    // export in the protocol); operators use the admin export.
    const auto& auth = ctx.options.auth;
    std::optional<auth::Identity> member;
    if (auth.mode == AuthOptions::Mode::kJwt) {
      constexpr std::string_view kBearer = "Bearer ";
      const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
      auto verified = authorization.starts_with(kBearer)
                          ? auth::verify_member_token(*auth.jwt_key, auth.jwt_policy,
                                                      authorization.substr(kBearer.size()), now_s)
                          : auth::Verified{};
      if (!verified.identity) {
        auto res = error(401, "a member token is required (Authorization: Bearer)");
        res.headers.emplace_back("WWW-Authenticate", "Bearer");
        return respond(std::move(res));
      }
      member = std::move(verified.identity);
    }
    if (is_valid_room_id(room_id)) {
      if (auto info = ctx.rooms->info(RoomId{room_id});
          info && info->private_room() && (!member || !member->rooms.contains(room_id))) {
        return respond(error(403, "private room"));
      }
    }
    auto format = query_param(target, "format");
    return export_room(ctx, room_id, format ? *format : "?", std::move(respond));
  }
  respond(error(404, "no such API route"));
}

}  // namespace huddle::net
