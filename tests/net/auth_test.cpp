// Authentication and room access through the real server on loopback (issue #6): JWT hello,
// refresh and expiry, the auth deadline, private rooms, grants and invite links. Each bad input
// asserts its exact outcome: the error code, the close code, and that nothing changed.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "server/auth/jwt.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

namespace v1 = huddle::v1;
namespace fs = std::filesystem;

const auth::JwtKey kKey{auth::JwtAlg::kHs256, "security-test-secret-0123456789abcdef"};

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string token_for(const std::string& sub,
                      std::map<std::string, v1::Role, std::less<>> rooms = {},
                      std::int64_t ttl_s = 3600) {
  auth::TokenSpec spec;
  spec.sub = sub;
  spec.name = sub + " (test)";
  spec.rooms = std::move(rooms);
  spec.ttl_s = ttl_s;
  spec.now_unix_s = now_s();
  return auth::mint_member_token(kKey, {}, spec);
}

class JwtServer : public ::testing::Test {
 protected:
  static app::ServerOptions options() {
    auto o = TestServer::default_options();
    o.net.auth.mode = net::AuthOptions::Mode::kJwt;
    o.net.auth.jwt_key = kKey;
    o.net.auth.jwt_policy.leeway_s = 0;
    o.net.auth.auth_timeout = std::chrono::seconds(1);
    return o;
  }
  void SetUp() override {
    invite_key_file_ =
        (fs::temp_directory_path() / ("huddle-invite-" + std::to_string(::getpid()) + ".key"))
            .string();
    std::ofstream(invite_key_file_) << invite_key_ << "\n";
    auto o = options();
    o.invite_key_file = invite_key_file_;
    server_ = std::make_unique<TestServer>(o);
  }
  void TearDown() override {
    server_.reset();
    fs::remove(invite_key_file_);
  }

  v1::Reply hello(TestClient& c, const std::string& token) {
    v1::ClientFrame f;
    f.mutable_hello()->set_token(token);
    return c.request(f);
  }
  // A connected, authenticated client.
  std::unique_ptr<TestClient> member(const std::string& sub,
                                     std::map<std::string, v1::Role, std::less<>> rooms = {}) {
    auto c = std::make_unique<TestClient>(server_->port());
    auto r = hello(*c, token_for(sub, std::move(rooms)));
    EXPECT_FALSE(r.has_error()) << r.DebugString();
    return c;
  }
  static v1::Reply create_private(TestClient& c, const std::string& room) {
    v1::ClientFrame f;
    f.mutable_create_room()->set_room_id(room);
    f.mutable_create_room()->set_private_room(true);
    return c.request(f);
  }
  static v1::Reply join(TestClient& c, const std::string& room, const std::string& invite = "",
                        std::optional<v1::ResumePosition> resume = std::nullopt) {
    v1::ClientFrame f;
    f.mutable_join()->set_room_id(room);
    f.mutable_join()->set_invite(invite);
    if (resume) {
      *f.mutable_join()->mutable_resume() = *resume;
    }
    return c.request(f);
  }
  static v1::Reply invite(TestClient& c, const std::string& room, v1::Role role) {
    v1::ClientFrame f;
    f.mutable_create_invite()->set_room_id(room);
    f.mutable_create_invite()->set_role(role);
    return c.request(f);
  }

  const std::string invite_key_ = std::string(64, 'a');
  std::string invite_key_file_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(JwtServer, ValidTokenSetsIdentityFromTheClaims) {
  TestClient c(server_->port());
  auto r = hello(c, token_for("alice"));
  ASSERT_FALSE(r.has_error()) << r.DebugString();
  EXPECT_EQ(r.hello().member().member_id(), "alice");
  EXPECT_EQ(r.hello().member().display_name(), "alice (test)");
  EXPECT_NEAR(static_cast<double>(r.hello().expires_unix_ms()),
              static_cast<double>((now_s() + 3600) * 1000), 5000.0);
}

// Every refused token: UNAUTHENTICATED, then close 4001; the connection never acts.
TEST_F(JwtServer, BadTokensGetUnauthenticatedThenClose4001) {
  auto expired = token_for("alice", {}, /*ttl_s=*/-5);
  auto other_key =
      auth::mint_member_token(auth::JwtKey{auth::JwtAlg::kHs256, std::string(40, 'z')}, {},
                              auth::TokenSpec{.sub = "alice", .now_unix_s = now_s()});
  auto good = token_for("alice");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no token", ""},
      {"alg none",
       "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh1ZGRsZSIsImF1ZCI6Imh1ZGRsZSIs"
       "ImV4cCI6NDEwMjQ0NDgwMH0."},
      {"signed with another key", other_key},
      {"truncated", good.substr(0, good.size() - 10)},
      {"expired", expired},
      {"garbage", "this is not a token"},
  };
  for (const auto& [name, token] : cases) {
    SCOPED_TRACE(name);
    TestClient c(server_->port());
    auto r = hello(c, token);
    ASSERT_TRUE(r.has_error());
    EXPECT_EQ(r.error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
    EXPECT_EQ(c.wait_closed(5s), 4001);
  }
  // A member id that is not the token's subject.
  TestClient c(server_->port());
  v1::ClientFrame f;
  f.mutable_hello()->set_token(good);
  f.mutable_hello()->set_member_id("mallory");
  auto r = c.request(f);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(c.wait_closed(5s), 4001);
}

TEST_F(JwtServer, NoHelloWithinTheAuthDeadlineCloses4002) {
  TestClient c(server_->port());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c.wait_closed(5s), 4002);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);  // Deadline is 1 s in this suite.
}

TEST_F(JwtServer, CommandsBeforeHelloAreUnauthenticated) {
  TestClient c(server_->port());
  v1::ClientFrame f;
  f.mutable_list_rooms();
  auto r = c.request(f);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
}

// A token that expires in 2 s: AuthExpiring at once (it is inside the 60 s refresh window), then
// close 4001 at expiry (leeway 0 in this suite).
TEST_F(JwtServer, UnrefreshedTokenGetsAuthExpiringThenClose4001) {
  TestClient c(server_->port());
  auto r = hello(c, token_for("alice", {}, /*ttl_s=*/2));
  ASSERT_FALSE(r.has_error());
  auto warn = c.wait_other([](const v1::ServerFrame& f) { return f.has_auth_expiring(); });
  EXPECT_EQ(warn.auth_expiring().expires_unix_ms(), r.hello().expires_unix_ms());
  EXPECT_EQ(c.wait_closed(6s), 4001);
}

TEST_F(JwtServer, RefreshedTokenKeepsTheConnectionPastTheOldExpiry) {
  TestClient c(server_->port());
  ASSERT_FALSE(hello(c, token_for("alice", {}, /*ttl_s=*/2)).has_error());
  c.wait_other([](const v1::ServerFrame& f) { return f.has_auth_expiring(); });
  // A bad refresh changes nothing (UNAUTHENTICATED, connection still open) ...
  v1::ClientFrame bad;
  bad.mutable_refresh_token()->set_token("garbage");
  auto rb = c.request(bad);
  ASSERT_TRUE(rb.has_error());
  EXPECT_EQ(rb.error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  // ... a token for someone else is refused ...
  v1::ClientFrame other;
  other.mutable_refresh_token()->set_token(token_for("bob"));
  auto ro = c.request(other);
  ASSERT_TRUE(ro.has_error());
  EXPECT_EQ(ro.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  // ... and a good one moves the expiry.
  v1::ClientFrame good;
  good.mutable_refresh_token()->set_token(token_for("alice"));
  auto rg = c.request(good);
  ASSERT_FALSE(rg.has_error()) << rg.DebugString();
  EXPECT_GT(rg.hello().expires_unix_ms(), (now_s() + 3000) * 1000);
  std::this_thread::sleep_for(3500ms);  // Past the first token's expiry.
  EXPECT_FALSE(c.closed());
  v1::ClientFrame list;
  list.mutable_list_rooms();
  EXPECT_FALSE(c.request(list).has_error());
}

// An outsider learns nothing about a private room: not listed, and join, resume, history and
// export are refused without an epoch or a head seq.
TEST_F(JwtServer, OutsiderOfAPrivateRoomIsRefusedEverywhere) {
  auto alice = member("alice");
  ASSERT_FALSE(create_private(*alice, "pipeline").has_error());
  alice->join("pipeline");
  v1::ClientFrame idea;
  idea.mutable_post_idea()->set_room_id("pipeline");
  idea.mutable_post_idea()->set_text("q4 plan");
  ASSERT_FALSE(alice->request(idea).has_error());

  auto bob = member("bob");
  v1::ClientFrame list;
  list.mutable_list_rooms();
  EXPECT_EQ(bob->request(list).rooms().rooms_size(), 0);
  EXPECT_EQ(alice->request(list).rooms().rooms_size(), 1);  // Its creator sees it.

  auto j = join(*bob, "pipeline");
  ASSERT_TRUE(j.has_error());
  EXPECT_EQ(j.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_FALSE(j.has_join());
  v1::ResumePosition pos;
  pos.set_epoch(server_->epoch());
  pos.set_last_seq(1);
  auto resume = join(*bob, "pipeline", "", pos);
  ASSERT_TRUE(resume.has_error());
  EXPECT_EQ(resume.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(resume.seq(), 0U);

  v1::ClientFrame history;
  history.mutable_get_history()->set_room_id("pipeline");
  auto h = bob->request(history);
  ASSERT_TRUE(h.has_error());
  EXPECT_EQ(h.error().code(), v1::ERROR_CODE_NOT_JOINED);
  EXPECT_FALSE(h.has_history());
  v1::ClientFrame exp;
  exp.mutable_export_()->set_room_id("pipeline");
  exp.mutable_export_()->set_format(v1::EXPORT_FORMAT_MARKDOWN);
  auto e = bob->request(exp);
  ASSERT_TRUE(e.has_error());
  EXPECT_EQ(e.error().code(), v1::ERROR_CODE_NOT_JOINED);
  EXPECT_EQ(bob->event_count(), 0U);
  EXPECT_TRUE(bob->others().empty());  // No snapshot, no presence.

  // HTTP export: a member token is required, and a private room needs a grant.
  EXPECT_EQ(http_get(server_->port(), "/api/v1/rooms/pipeline/export").status, 401U);
  HttpRequest req;
  req.target = "/api/v1/rooms/pipeline/export";
  req.headers["Authorization"] = "Bearer " + token_for("bob");
  auto forbidden = http_request(server_->port(), req);
  EXPECT_EQ(forbidden.status, 403U);
  EXPECT_EQ(forbidden.body.find("q4 plan"), std::string::npos);
  req.headers["Authorization"] = "Bearer " + token_for("carol", {{"pipeline", v1::ROLE_OBSERVER}});
  auto allowed = http_request(server_->port(), req);
  EXPECT_EQ(allowed.status, 200U);
  EXPECT_NE(allowed.body.find("q4 plan"), std::string::npos);
}

TEST_F(JwtServer, GrantAdmitsWithItsRoleAndObserversCannotPost) {
  auto alice = member("alice");
  ASSERT_FALSE(create_private(*alice, "pipeline").has_error());
  auto carol = member("carol", {{"pipeline", v1::ROLE_OBSERVER}});
  v1::ClientFrame list;
  list.mutable_list_rooms();
  EXPECT_EQ(carol->request(list).rooms().rooms_size(), 1);  // Grant holders see it.
  auto j = join(*carol, "pipeline");
  ASSERT_FALSE(j.has_error()) << j.DebugString();
  auto post = carol->post_chat("pipeline", "can I talk?");
  ASSERT_TRUE(post.has_error());
  EXPECT_EQ(post.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  v1::ClientFrame idea;
  idea.mutable_post_idea()->set_room_id("pipeline");
  idea.mutable_post_idea()->set_text("an idea");
  auto ri = carol->request(idea);
  ASSERT_TRUE(ri.has_error());
  EXPECT_EQ(ri.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
}

TEST_F(JwtServer, InviteAdmitsAParticipantWhoCannotChangeThePhase) {
  auto alice = member("alice");
  ASSERT_FALSE(create_private(*alice, "pipeline").has_error());
  ASSERT_FALSE(alice->join("pipeline").room().room_id().empty());
  auto inv = invite(*alice, "pipeline", v1::ROLE_PARTICIPANT);
  ASSERT_FALSE(inv.has_error()) << inv.DebugString();
  ASSERT_FALSE(inv.invite().invite().empty());

  auto dave = member("dave");
  auto j = join(*dave, "pipeline", inv.invite().invite());
  ASSERT_FALSE(j.has_error()) << j.DebugString();
  EXPECT_FALSE(dave->post_chat("pipeline", "hi all").has_error());
  v1::ClientFrame phase;
  phase.mutable_set_phase()->set_room_id("pipeline");
  phase.mutable_set_phase()->set_phase(v1::PHASE_VOTE);
  auto rp = dave->request(phase);
  ASSERT_TRUE(rp.has_error());
  EXPECT_EQ(rp.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  // A participant cannot mint invites either.
  auto again = invite(*dave, "pipeline", v1::ROLE_FACILITATOR);
  ASSERT_TRUE(again.has_error());
  EXPECT_EQ(again.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  // Once in the roster, dave rejoins on a new connection without the invite.
  auto dave2 = member("dave");
  EXPECT_FALSE(join(*dave2, "pipeline").has_error());
}

TEST_F(JwtServer, ExpiredTamperedOrForeignInvitesArePermissionDenied) {
  auto alice = member("alice");
  ASSERT_FALSE(create_private(*alice, "pipeline").has_error());
  ASSERT_FALSE(create_private(*alice, "other").has_error());
  ASSERT_FALSE(alice->join("other").room().room_id().empty());
  const auto t = now_s();
  const auto expired =
      auth::mint_invite(invite_key_, {"pipeline", v1::ROLE_PARTICIPANT, t - 1}, t - 120);
  auto good = auth::mint_invite(invite_key_, {"pipeline", v1::ROLE_PARTICIPANT, t + 600}, t);
  std::string tampered = good;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  const auto other_room = invite(*alice, "other", v1::ROLE_PARTICIPANT).invite().invite();
  const auto wrong_key =
      auth::mint_invite(std::string(64, 'b'), {"pipeline", v1::ROLE_PARTICIPANT, t + 600}, t);
  for (const auto& [name, inv] :
       std::vector<std::pair<std::string, std::string>>{{"expired", expired},
                                                        {"tampered", tampered},
                                                        {"for another room", other_room},
                                                        {"another key", wrong_key}}) {
    SCOPED_TRACE(name);
    auto eve = member("eve");
    auto j = join(*eve, "pipeline", inv);
    ASSERT_TRUE(j.has_error());
    EXPECT_EQ(j.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  }
  // And the untampered one works.
  auto eve = member("eve");
  EXPECT_FALSE(join(*eve, "pipeline", good).has_error());
}

TEST_F(JwtServer, PublicRoomsAdmitAnyAuthenticatedMember) {
  auto alice = member("alice");
  ASSERT_FALSE(alice->create_room("lobby").has_error());
  auto bob = member("bob");
  EXPECT_FALSE(join(*bob, "lobby").has_error());
  EXPECT_FALSE(bob->post_chat("lobby", "hello").has_error());
}

TEST(OpenAuth, RefusesToListenOnANonLoopbackAddressUnlessAllowed) {
  auto o = TestServer::default_options();
  o.host = "0.0.0.0";
  o.ephemeral = true;
  app::Server server(o);
  EXPECT_EQ(server.start(), make_error_code(Errc::kInvalidArgument));
}

}  // namespace
}  // namespace huddle::testing
