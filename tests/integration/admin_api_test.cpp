// The admin HTTP API over the real server: the token guards every route; list, details,
// archive (read-only from then on, across restarts) and delete (members told, history gone).
#include <string>

#include <gtest/gtest.h>

#include "huddle/v1/frame.pb.h"
#include "tests/support/http_get.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

namespace v1 = huddle::v1;

constexpr const char* kToken = "admin-token-0123456789abcdef";

app::ServerOptions admin_options() {
  auto o = TestServer::default_options();
  o.net.admin_token = kToken;
  return o;
}

HttpResponse admin(std::uint16_t port, const std::string& method, const std::string& target,
                   const std::string& authorization = std::string("Bearer ") + kToken) {
  HttpRequest req{.method = method, .target = target, .headers = {}, .body = {}};
  if (!authorization.empty()) {
    req.headers["Authorization"] = authorization;
  }
  return http_request(port, req);
}

v1::Reply post_idea(TestClient& c, const std::string& room, const std::string& text) {
  v1::ClientFrame f;
  f.mutable_post_idea()->set_room_id(room);
  f.mutable_post_idea()->set_text(text);
  return c.request(f);
}

TEST(AdminApi, WithoutTheRightTokenEveryRouteIsRefusedAndNothingChanges) {
  TestServer server(admin_options());
  TestClient ann(server.port());
  ann.hello("Ann", "ann");
  ASSERT_FALSE(ann.create_room("q3", "Q3").has_error());
  ann.join("q3");
  const std::string routes[][2] = {{"GET", "/api/v1/admin/rooms"},
                                   {"GET", "/api/v1/admin/rooms/q3"},
                                   {"POST", "/api/v1/admin/rooms/q3/archive"},
                                   {"DELETE", "/api/v1/admin/rooms/q3"},
                                   {"GET", "/api/v1/admin/rooms/q3/export?format=md"}};
  for (const auto& [method, target] : routes) {
    for (const std::string& auth :
         {std::string(), std::string("Bearer wrong"), std::string("Bearer ") + kToken + "x",
          std::string("Basic ") + kToken, std::string(kToken),
          std::string("Bearer ") + std::string(kToken).substr(1)}) {
      const auto res = admin(server.port(), method, target, auth);
      EXPECT_EQ(res.status, 401U) << method << " " << target << " auth=" << auth;
      EXPECT_EQ(res.headers.at("www-authenticate"), "Bearer realm=\"huddle-admin\"");
      EXPECT_EQ(res.body.find("Q3"), std::string::npos);
    }
  }
  // The room is neither archived nor deleted.
  const auto chat = ann.post_chat("q3", "still here");
  ASSERT_FALSE(chat.has_error());
  EXPECT_EQ(chat.seq(), 2U);
}

TEST(AdminApi, OffUnlessATokenIsConfigured) {
  TestServer server;
  const auto res = admin(server.port(), "GET", "/api/v1/admin/rooms");
  EXPECT_EQ(res.status, 403U);
  EXPECT_NE(res.body.find("--admin-token-file"), std::string::npos);
}

TEST(AdminApi, ListsRoomsWithStatsAndDetailsOfOne) {
  TestServer server(admin_options());
  TestClient ann(server.port());
  ann.hello("Ann", "ann");
  ASSERT_FALSE(ann.create_room("alpha", "Alpha \"board\"").has_error());
  ASSERT_FALSE(ann.create_room("beta", "Beta").has_error());
  ann.join("alpha");
  ASSERT_FALSE(post_idea(ann, "alpha", "Bundle pricing").has_error());
  ASSERT_FALSE(post_idea(ann, "alpha", "Annual plans").has_error());

  const auto list = admin(server.port(), "GET", "/api/v1/admin/rooms");
  ASSERT_EQ(list.status, 200U);
  EXPECT_EQ(list.content_type, "application/json");
  EXPECT_NE(list.body.find(R"("roomId":"alpha","title":"Alpha \"board\"")"), std::string::npos)
      << list.body;
  EXPECT_NE(list.body.find(R"("headSeq":"3","connections":1)"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find(R"("roomId":"beta")"), std::string::npos);
  EXPECT_LT(list.body.find("alpha"), list.body.find("beta"));

  const auto details = admin(server.port(), "GET", "/api/v1/admin/rooms/alpha");
  ASSERT_EQ(details.status, 200U);
  EXPECT_NE(details.body.find(R"("ideas":2)"), std::string::npos) << details.body;
  EXPECT_NE(details.body.find(R"("archived":false)"), std::string::npos);
  EXPECT_NE(details.body.find(R"("phase":"PHASE_COLLECT")"), std::string::npos);
  EXPECT_NE(details.body.find(R"("membersOnline":1)"), std::string::npos);

  EXPECT_EQ(admin(server.port(), "GET", "/api/v1/admin/rooms/nope").status, 404U);
  EXPECT_EQ(admin(server.port(), "GET", "/api/v1/admin/rooms/Bad%20Id").status, 404U);
  EXPECT_EQ(admin(server.port(), "PUT", "/api/v1/admin/rooms/alpha").status, 405U);
  EXPECT_EQ(admin(server.port(), "POST", "/api/v1/admin/rooms").status, 405U);
  EXPECT_EQ(admin(server.port(), "GET", "/api/v1/admin/rooms/alpha/nope").status, 404U);

  const auto md = admin(server.port(), "GET", "/api/v1/admin/rooms/alpha/export?format=md");
  ASSERT_EQ(md.status, 200U);
  EXPECT_NE(md.body.find("Bundle pricing"), std::string::npos);
  EXPECT_EQ(admin(server.port(), "GET", "/api/v1/admin/rooms/alpha/export?format=pdf").status,
            400U);
}

TEST(AdminApi, ArchiveMakesTheRoomReadOnlyForGood) {
  TestServer server(admin_options());
  TestClient ann(server.port());
  ann.hello("Ann", "ann");
  ASSERT_FALSE(ann.create_room("q3", "Q3").has_error());
  ann.join("q3");
  ASSERT_FALSE(post_idea(ann, "q3", "Bundle pricing").has_error());

  const auto res =
      admin(server.port(), "POST", "/api/v1/admin/rooms/q3/archive?reason=week%20over");
  ASSERT_EQ(res.status, 200U) << res.body;
  EXPECT_EQ(res.body, "{\"roomId\":\"q3\",\"action\":\"archived\"}\n");
  ann.wait_seq(3);
  const auto archived = ann.events().back();
  ASSERT_TRUE(archived.has_room_archived()) << archived.ShortDebugString();
  EXPECT_EQ(archived.room_archived().reason(), "week over");
  EXPECT_FALSE(archived.has_actor());

  EXPECT_EQ(post_idea(ann, "q3", "too late").error().code(), v1::ERROR_CODE_ROOM_ARCHIVED);
  EXPECT_EQ(ann.post_chat("q3", "hello?").error().code(), v1::ERROR_CODE_ROOM_ARCHIVED);
  EXPECT_EQ(admin(server.port(), "POST", "/api/v1/admin/rooms/q3/archive").status, 409U);
  EXPECT_EQ(admin(server.port(), "POST", "/api/v1/admin/rooms/q3/archive?reason=%zz").status, 400U);

  // Readable, and a late joiner is not logged.
  TestClient bob(server.port());
  bob.hello("Bob", "bob");
  const auto join = bob.join("q3");
  EXPECT_EQ(join.head_seq(), 3U);

  server.restart();
  TestClient again(server.port());
  again.hello("Ann", "ann");
  EXPECT_EQ(again.join("q3").head_seq(), 3U);
  EXPECT_EQ(post_idea(again, "q3", "after restart").error().code(), v1::ERROR_CODE_ROOM_ARCHIVED);
  EXPECT_NE(admin(server.port(), "GET", "/api/v1/admin/rooms/q3").body.find(R"("archived":true)"),
            std::string::npos);
}

TEST(AdminApi, DeleteRemovesTheRoomAndItsHistoryAndTellsItsMembers) {
  TestServer server(admin_options());
  TestClient ann(server.port());
  ann.hello("Ann", "ann");
  ASSERT_FALSE(ann.create_room("gone", "Gone").has_error());
  ASSERT_FALSE(ann.create_room("kept", "Kept").has_error());
  ann.join("gone");
  for (int i = 0; i < 5; ++i) {
    ASSERT_FALSE(post_idea(ann, "gone", "idea " + std::to_string(i)).has_error());
  }

  const auto res = admin(server.port(), "DELETE", "/api/v1/admin/rooms/gone");
  ASSERT_EQ(res.status, 200U) << res.body;
  const auto closed = ann.wait_other([](const v1::ServerFrame& f) { return f.has_room_closed(); });
  EXPECT_EQ(closed.room_closed().room_id(), "gone");
  EXPECT_EQ(ann.post_chat("gone", "anyone?").error().code(), v1::ERROR_CODE_ROOM_NOT_FOUND);
  EXPECT_EQ(admin(server.port(), "DELETE", "/api/v1/admin/rooms/gone").status, 404U);
  EXPECT_EQ(admin(server.port(), "GET", "/api/v1/admin/rooms").body.find("\"gone\""),
            std::string::npos);

  server.restart();
  TestClient c(server.port());
  c.hello("Ann", "ann");
  v1::ClientFrame join;
  join.mutable_join()->set_room_id("gone");
  EXPECT_EQ(c.request(join).error().code(), v1::ERROR_CODE_ROOM_NOT_FOUND);
  EXPECT_EQ(c.join("kept").head_seq(), 1U);  // Its neighbour is untouched.
  // The id is free again, and the new room starts from nothing.
  const auto created = c.create_room("gone", "Gone again");
  ASSERT_FALSE(created.has_error());
  EXPECT_EQ(created.seq(), 1U);
  const auto fresh = c.join("gone");
  EXPECT_EQ(fresh.head_seq(), 1U);
}

}  // namespace
}  // namespace huddle::testing
