// The SDK and the `huddle` CLI against a server with TLS, JWT auth and rate limits (in-process
// TestServer on loopback): wss:// with the test's self-signed certificate as the CA, typed fatal
// errors for an untrusted certificate and a refused token (and no reconnect storm after them),
// token refresh past expiry, private rooms with invites, and RATE_LIMITED replies retried.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "huddle/client.hpp"
#include "server/auth/jwt.hpp"
#include "tests/sdk/sdk_testing.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/test_server.hpp"

#ifndef HUDDLE_CLI_BINARY
#error "HUDDLE_CLI_BINARY must be defined by the build"
#endif

namespace huddle::testing {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace v1 = huddle::v1;
using namespace std::chrono_literals;

const auth::JwtKey kKey{auth::JwtAlg::kHs256, "sdk-security-test-secret-0123456789abcdef"};
const auth::JwtKey kOtherKey{auth::JwtAlg::kHs256, "another-secret-entirely-0123456789abcdef"};

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string token_for(const std::string& sub, std::int64_t ttl_s = 3600,
                      const auth::JwtKey& key = kKey, std::int64_t issued = 0) {
  auth::TokenSpec spec;
  spec.sub = sub;
  spec.name = sub + " (token)";
  spec.ttl_s = ttl_s;
  spec.now_unix_s = issued != 0 ? issued : now_s();
  return auth::mint_member_token(key, {}, spec);
}

// The value of a metric line `name` in /metrics (plain http only), -1 if absent.
double metric(std::uint16_t port, const std::string& name) {
  const auto body = http_get(port, "/metrics").body;
  const auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

// A temporary directory with self-signed certificates made by the openssl CLI: `server` for
// 127.0.0.1 and localhost, `elsewhere` for another host name only.
class Certs {
 public:
  Certs() {
    for (const auto& [name, san] :
         {std::pair<std::string, std::string>{"server", "IP:127.0.0.1,DNS:localhost"},
          {"elsewhere", "DNS:huddle.example"}}) {
      const auto r = run_shell(
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
          "/CN=huddle-test -addext subjectAltName=" +
          san + " -keyout " + shell_quote(key(name)) + " -out " + shell_quote(cert(name)) +
          " 2>&1");
      EXPECT_EQ(r.status, 0) << r.out;
    }
  }
  [[nodiscard]] std::string cert(const std::string& name) const {
    return (dir_.path() / (name + ".crt")).string();
  }
  [[nodiscard]] std::string key(const std::string& name) const {
    return (dir_.path() / (name + ".key")).string();
  }
  [[nodiscard]] std::string dir() const { return dir_.path().string(); }

 private:
  TempDir dir_;
};

app::ServerOptions tls_options(const Certs& certs, const std::string& name = "server") {
  auto o = TestServer::default_options();
  o.tls_cert_file = certs.cert(name);
  o.tls_key_file = certs.key(name);
  return o;
}

app::ServerOptions jwt_options(app::ServerOptions o = TestServer::default_options()) {
  o.net.auth.mode = net::AuthOptions::Mode::kJwt;
  o.net.auth.jwt_key = kKey;
  o.net.auth.jwt_policy.leeway_s = 0;
  return o;
}

ClientOptions options_for(const std::string& url) {
  ClientOptions o;
  o.url = url;
  o.reconnect_min = 50ms;
  o.reconnect_max = 400ms;
  o.request_timeout = 20s;
  return o;
}

std::string wss(std::uint16_t port) {
  return "wss://127.0.0.1:" + std::to_string(port) + "/ws";
}
std::string ws(std::uint16_t port) {
  return "ws://127.0.0.1:" + std::to_string(port) + "/ws";
}

// A room's events as an application sees them.
struct Seen {
  std::mutex mu;
  std::vector<v1::Event> events;
  std::atomic<bool> ready{false};
  std::atomic<int> join_errors{0};
  std::atomic<int> last_join_error{0};
  RoomHandlers handlers() {
    RoomHandlers h;
    h.on_ready = [this](const BoardMirror&) { ready = true; };
    h.on_event = [this](const v1::Event& e, const BoardMirror&) {
      std::lock_guard lock(mu);
      events.push_back(e);
    };
    h.on_join_error = [this](const CommandResult& r) {
      last_join_error = r.code;
      ++join_errors;
    };
    return h;
  }
  bool has_idea(const std::string& text) {
    std::lock_guard lock(mu);
    return std::any_of(events.begin(), events.end(), [&](const v1::Event& e) {
      return e.has_idea_posted() && e.idea_posted().text() == text;
    });
  }
};

// ---- wss:// ----

TEST(SdkTls, ASessionOverWssWithTheServersCertificateAsTheCa) {
  Certs certs;
  TestServer server(tls_options(certs));
  IoThread io;
  auto o = options_for(wss(server.port()));
  o.ca_file = certs.cert("server");
  o.display_name = "Ann";
  o.member_id = "ann";
  Client ann(io.ioc.get_executor(), o);
  o.display_name = "Bob";
  o.member_id = "bob";
  Client bob(io.ioc.get_executor(), o);
  ann.start();
  bob.start();

  ASSERT_TRUE(ann.create_room("tls-room", "Over TLS").get().ok());
  Seen ann_seen;
  Seen bob_seen;
  ann.join("tls-room", ann_seen.handlers());
  bob.join("tls-room", bob_seen.handlers());
  ASSERT_TRUE(eventually([&] { return ann_seen.ready && bob_seen.ready; }));
  EXPECT_EQ(ann.member_id(), "ann");
  EXPECT_TRUE(ann.connected());
  const auto idea = ann.post_idea("tls-room", "Encrypt everything").get();
  ASSERT_TRUE(idea.ok()) << idea.message;
  ASSERT_TRUE(eventually([&] { return bob_seen.has_idea("Encrypt everything"); }));
  EXPECT_EQ(bob.board("tls-room").get().ideas_size(), 1);
  EXPECT_EQ(ann.fatal_error().error, FatalError::kNone);

  // "localhost" is in the certificate too (checked as a DNS name, sent as SNI).
  auto by_name = options_for("wss://localhost:" + std::to_string(server.port()) + "/ws");
  by_name.ca_file = certs.cert("server");
  Client cat(io.ioc.get_executor(), by_name);
  cat.start();
  EXPECT_TRUE(cat.list_rooms().get().ok());
  ann.stop();
  bob.stop();
  cat.stop();
}

TEST(SdkTls, AnUntrustedCertificateIsATypedFatalErrorAndTheClientStops) {
  Certs certs;
  TestServer server(tls_options(certs));
  TestServer elsewhere(tls_options(certs, "elsewhere"));
  IoThread io;

  // No CA file: the system store does not know the test's self-signed certificate.
  std::atomic<int> fatal_calls{0};
  auto o = options_for(wss(server.port()));
  o.on_fatal = [&](const Failure& f) {
    EXPECT_EQ(f.error, FatalError::kTlsVerification);
    ++fatal_calls;
  };
  Client untrusted(io.ioc.get_executor(), o);
  untrusted.start();
  const auto r = untrusted.list_rooms().get();
  EXPECT_EQ(r.client_error, ClientError::kFatal);
  EXPECT_NE(r.message.find("certificate"), std::string::npos) << r.message;
  const auto f = untrusted.fatal_error();
  EXPECT_EQ(f.error, FatalError::kTlsVerification);
  EXPECT_NE(f.message.find("ca_file"), std::string::npos) << f.message;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(untrusted.connection_attempts(), 1U) << "a refused certificate is not retried";
  EXPECT_EQ(fatal_calls.load(), 1);
  EXPECT_EQ(untrusted.list_rooms().get().client_error, ClientError::kFatal);

  // A trusted certificate for another host name: refused too (hostname verification).
  auto other = options_for(wss(elsewhere.port()));
  other.ca_file = certs.cert("elsewhere");
  Client wrong_host(io.ioc.get_executor(), other);
  wrong_host.start();
  EXPECT_EQ(wrong_host.list_rooms().get().client_error, ClientError::kFatal);
  EXPECT_EQ(wrong_host.fatal_error().error, FatalError::kTlsVerification);

  // A CA file that does not load.
  auto missing = options_for(wss(server.port()));
  missing.ca_file = certs.dir() + "/no-such.pem";
  Client no_ca(io.ioc.get_executor(), missing);
  no_ca.start();
  EXPECT_EQ(no_ca.list_rooms().get().client_error, ClientError::kFatal);
  EXPECT_NE(no_ca.fatal_error().message.find("no-such.pem"), std::string::npos);

  // Verification off (tests only): it connects.
  auto insecure = options_for(wss(server.port()));
  insecure.tls_verify = false;
  Client anything(io.ioc.get_executor(), insecure);
  anything.start();
  EXPECT_TRUE(anything.list_rooms().get().ok());
  anything.stop();
}

// ---- Tokens ----

TEST(SdkJwt, AGoodTokenWorksARefusedOneIsATypedErrorWithoutAReconnectStorm) {
  TestServer server(jwt_options());
  IoThread io;
  auto good = options_for(ws(server.port()));
  good.token = token_for("ann");
  Client ann(io.ioc.get_executor(), good);
  ann.start();
  ASSERT_TRUE(ann.create_room("jwt-room").get().ok());
  EXPECT_EQ(ann.member_id(), "ann");  // The token's subject.
  Seen seen;
  ann.join("jwt-room", seen.handlers());
  ASSERT_TRUE(eventually([&] { return seen.ready.load(); }));
  const auto board = ann.board("jwt-room").get();
  ASSERT_EQ(board.roster_size(), 1);
  EXPECT_EQ(board.roster(0).member().display_name(), "ann (token)");  // The token's name.
  EXPECT_EQ(metric(server.port(), "huddle_rejected_frames_total{reason=\"auth\"}"), 0);

  // Signed with another key: refused once, and the Client stops.
  std::atomic<int> fatal_calls{0};
  auto bad = options_for(ws(server.port()));
  bad.token = token_for("mallory", 3600, kOtherKey);
  bad.on_fatal = [&](const Failure&) { ++fatal_calls; };
  Client mallory(io.ioc.get_executor(), bad);
  mallory.start();
  auto r = mallory.create_room("not-yours").get();
  EXPECT_EQ(r.client_error, ClientError::kFatal);
  EXPECT_EQ(r.message, "authentication failed (the server refused the token)");
  EXPECT_EQ(mallory.fatal_error().error, FatalError::kUnauthenticated);
  std::this_thread::sleep_for(1500ms);  // Ten reconnect_min periods.
  EXPECT_EQ(mallory.connection_attempts(), 1U);
  EXPECT_EQ(fatal_calls.load(), 1);
  EXPECT_EQ(metric(server.port(), "huddle_rejected_frames_total{reason=\"auth\"}"), 1);
  EXPECT_FALSE(mallory.connected());

  // Expired: the typed error says so.
  auto expired = options_for(ws(server.port()));
  expired.token = token_for("ann", 60, kKey, now_s() - 3600);
  Client late(io.ioc.get_executor(), expired);
  late.start();
  r = late.list_rooms().get();
  EXPECT_EQ(r.client_error, ClientError::kFatal);
  EXPECT_EQ(late.fatal_error().error, FatalError::kTokenExpired);
  EXPECT_EQ(late.fatal_error().message, "authentication failed (token expired)");

  // No token at all.
  Client anonymous(io.ioc.get_executor(), options_for(ws(server.port())));
  anonymous.start();
  EXPECT_EQ(anonymous.list_rooms().get().client_error, ClientError::kFatal);
  EXPECT_EQ(anonymous.fatal_error().error, FatalError::kUnauthenticated);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(metric(server.port(), "huddle_rejected_frames_total{reason=\"auth\"}"), 3);

  // start() again with a good token (refresh_token before a connection sets the next hello's).
  auto fixed = mallory.refresh_token(token_for("mallory")).get();
  EXPECT_TRUE(fixed.ok());
  mallory.start();
  EXPECT_TRUE(mallory.list_rooms().get().ok());
  EXPECT_EQ(mallory.fatal_error().error, FatalError::kNone);
  ann.stop();
  mallory.stop();
}

// 3-second tokens and a server without leeway: the connection's token expires twice over while
// the test runs. With a token_provider the Client refreshes on AuthExpiring and keeps its one
// connection; without one it gets close 4001 at expiry and stops with kTokenExpired.
TEST(SdkJwt, ATokenProviderKeepsTheConnectionAlivePastExpiry) {
  TestServer server(jwt_options());
  IoThread io;
  std::atomic<int> minted{0};
  auto o = options_for(ws(server.port()));
  o.token_provider = [&] {
    ++minted;
    return token_for("ann", 3);
  };
  Client ann(io.ioc.get_executor(), o);
  ann.start();
  ASSERT_TRUE(ann.create_room("refresh-room").get().ok());
  Seen seen;
  ann.join("refresh-room", seen.handlers());
  ASSERT_TRUE(eventually([&] { return seen.ready.load(); }));

  auto short_lived = options_for(ws(server.port()));
  short_lived.token = token_for("bob", 3);
  std::atomic<int> fatal_calls{0};
  short_lived.on_fatal = [&](const Failure& f) {
    EXPECT_EQ(f.error, FatalError::kTokenExpired);
    ++fatal_calls;
  };
  Client bob(io.ioc.get_executor(), short_lived);
  bob.start();
  ASSERT_TRUE(bob.list_rooms().get().ok());

  std::this_thread::sleep_for(7s);
  EXPECT_EQ(ann.connection_attempts(), 1U) << "refreshed in place, never dropped";
  EXPECT_TRUE(ann.connected());
  EXPECT_GE(minted.load(), 3);  // The connect, then at least one refresh per expiry.
  const auto idea = ann.post_idea("refresh-room", "Still here").get();
  EXPECT_TRUE(idea.ok()) << idea.message;
  for (const auto& e : ann.errors()) {
    EXPECT_EQ(e.find("refresh"), std::string::npos) << e;
  }

  EXPECT_EQ(fatal_calls.load(), 1);
  EXPECT_EQ(bob.fatal_error().error, FatalError::kTokenExpired);
  EXPECT_EQ(bob.connection_attempts(), 1U);
  EXPECT_FALSE(bob.connected());
  ann.stop();
}

TEST(SdkJwt, APrivateRoomAdmitsWithAnInviteOnly) {
  TestServer server(jwt_options());
  IoThread io;
  auto client = [&](const std::string& sub) {
    auto o = options_for(ws(server.port()));
    o.token = token_for(sub);
    auto c = std::make_unique<Client>(io.ioc.get_executor(), o);
    c->start();
    return c;
  };
  auto owner = client("owner");
  auto outsider = client("outsider");
  auto guest = client("guest");
  ASSERT_TRUE(
      owner->create_room_with("secret", {.title = "Secret", .private_room = true}).get().ok());
  Seen owner_seen;
  owner->join("secret", owner_seen.handlers());
  ASSERT_TRUE(eventually([&] { return owner_seen.ready.load(); }));
  const auto invite = owner->create_invite("secret", v1::ROLE_PARTICIPANT, 1h).get();
  ASSERT_TRUE(invite.result.ok()) << invite.result.message;
  ASSERT_FALSE(invite.invite.empty());
  EXPECT_GT(invite.expires_unix_ms, (now_s() + 3000) * 1000);
  EXPECT_LT(invite.expires_unix_ms, (now_s() + 3700) * 1000);

  // Not listed to, and not joinable by, an outsider.
  const auto rooms = outsider->list_rooms().get();
  ASSERT_TRUE(rooms.ok());
  EXPECT_EQ(rooms.reply.rooms().rooms_size(), 0);
  Seen outsider_seen;
  outsider->join("secret", outsider_seen.handlers());
  ASSERT_TRUE(eventually([&] { return outsider_seen.join_errors.load() > 0; }));
  EXPECT_EQ(outsider_seen.last_join_error.load(), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_FALSE(outsider_seen.ready.load());
  EXPECT_EQ(outsider->post_idea("secret", "let me in").get().code, v1::ERROR_CODE_NOT_JOINED);
  // The invite admits a new member.
  Seen guest_seen;
  guest->join("secret", guest_seen.handlers(), invite.invite);
  ASSERT_TRUE(eventually([&] { return guest_seen.ready.load(); }));
  EXPECT_EQ(guest_seen.join_errors.load(), 0);
  const auto posted = guest->post_idea("secret", "Invited idea").get();
  ASSERT_TRUE(posted.ok()) << posted.message;
  EXPECT_TRUE(eventually([&] { return owner_seen.has_idea("Invited idea"); }));
  // A participant cannot make invites.
  EXPECT_EQ(guest->create_invite("secret").get().result.code, v1::ERROR_CODE_PERMISSION_DENIED);
  // A tampered invite is refused.
  auto tampered = invite.invite;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  Seen tampered_seen;
  outsider->join("secret", tampered_seen.handlers(), tampered);
  ASSERT_TRUE(eventually([&] { return tampered_seen.join_errors.load() > 0; }));
  EXPECT_EQ(tampered_seen.last_join_error.load(), v1::ERROR_CODE_PERMISSION_DENIED);
  owner->stop();
  outsider->stop();
  guest->stop();
}

// The server's production limits (20 commands/s, burst 40): 120 commands issued at once all
// succeed, RATE_LIMITED ones resent by the Client with their op id, each applied once, and the
// flow control keeps the connection clear of close 4029.
TEST(SdkRateLimit, RateLimitedCommandsAreRetriedAndEachAppliedOnce) {
  auto opts = TestServer::default_options();
  opts.net.limits = net::LimitOptions{};  // The defaults: 20/s, burst 40, 200 messages/s.
  opts.net.limits.max_connections = 0;
  opts.net.limits.max_connections_per_ip = 0;
  TestServer server(opts);
  IoThread io;
  auto o = options_for(ws(server.port()));
  o.member_id = "fast";
  o.display_name = "Fast";
  Client c(io.ioc.get_executor(), o);
  c.start();
  ASSERT_TRUE(c.create_room("busy").get().ok());
  Seen seen;
  c.join("busy", seen.handlers());
  ASSERT_TRUE(eventually([&] { return seen.ready.load(); }));
  constexpr int kPosts = 120;
  std::vector<std::future<CommandResult>> posts;
  posts.reserve(kPosts);
  for (int i = 0; i < kPosts; ++i) {
    posts.push_back(c.post_chat("busy", "line " + std::to_string(i)));
  }
  int ok = 0;
  for (auto& f : posts) {
    const auto r = f.get();
    EXPECT_TRUE(r.ok()) << r.message;
    ok += r.ok() ? 1 : 0;
  }
  EXPECT_EQ(ok, kPosts);
  EXPECT_EQ(c.connection_attempts(), 1U) << "no close 4029";
  ASSERT_TRUE(eventually([&] { return c.board("busy").get().chat_message_count() == kPosts; }));
  EXPECT_GT(metric(server.port(), "huddle_rejected_frames_total{reason=\"rate_limited\"}"), 0)
      << "the limit was reached (else this test proves nothing)";
  c.stop();
}

// ---- The CLI ----

using Run = ShellRun;

// `huddle --url wss://127.0.0.1:PORT/ws ARGS`.
Run huddle_cli(std::uint16_t port, const std::vector<std::string>& args) {
  std::string cmd = std::string(HUDDLE_CLI_BINARY) + " --timeout 10 --url " + wss(port);
  for (const auto& a : args) {
    cmd += " " + shell_quote(a);
  }
  return run_shell(cmd);
}

TEST(CliSecurity, WssTokensPrivateRoomsAndInvites) {
  Certs certs;
  TestServer server(jwt_options(tls_options(certs)));
  const auto port = server.port();
  const auto ca = certs.cert("server");
  const auto ann = token_for("ann");
  const auto bob = token_for("bob");
  const auto bob_file = certs.dir() + "/bob.token";
  std::ofstream(bob_file) << bob << "\n";

  auto r = huddle_cli(port, {"--ca-file", ca, "--token", ann, "create", "plans", "--private"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "created plans\n");
  r = huddle_cli(port, {"--ca-file", ca, "--token", ann, "invite", "plans", "--ttl", "7d"});
  ASSERT_EQ(r.status, 0) << r.out;
  const auto invite = r.lines().back();
  EXPECT_EQ(std::count(invite.begin(), invite.end(), '.'), 2) << invite;  // A JWT.
  r = huddle_cli(port, {"--ca-file", ca, "--token", ann, "invite", "plans", "--role", "boss"});
  EXPECT_EQ(r.status, 2) << r.out;

  // Bob without the invite: refused, one line, exit 1.
  r = huddle_cli(port, {"--ca-file", ca, "--token-file", bob_file, "tail", "plans"});
  EXPECT_EQ(r.status, 1) << r.out;
  ASSERT_EQ(r.lines().size(), 1U) << r.out;
  EXPECT_EQ(r.out,
            "huddle: cannot join plans: ERROR_CODE_PERMISSION_DENIED (a private room: join with "
            "--invite)\n");
  // With it: in, and from then on a member (the roster admits him without it).
  r = huddle_cli(port,
                 {"--ca-file", ca, "--token-file", bob_file, "tail", "plans", "--invite", invite});
  ASSERT_EQ(r.status, 0) << r.out;
  // (Bob's own MemberJoined follows the join reply, so this tail may end before it arrives.)
  r = huddle_cli(port, {"--ca-file", ca, "--token", bob, "idea", "plans", "Quarterly offsite"});
  ASSERT_EQ(r.status, 0) << r.out;
  r = huddle_cli(port, {"--ca-file", ca, "--token", ann, "tail", "plans"});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("bob (token) joined"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Quarterly offsite"), std::string::npos) << r.out;

  // Refused tokens: one line, exit 1, no retry loop.
  r = huddle_cli(port, {"--ca-file", ca, "--token", token_for("eve", 3600, kOtherKey), "rooms"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "huddle: authentication failed (the server refused the token)\n");
  r = huddle_cli(port,
                 {"--ca-file", ca, "--token", token_for("ann", 60, kKey, now_s() - 3600), "rooms"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "huddle: authentication failed (token expired)\n");
  r = huddle_cli(port, {"--ca-file", ca, "rooms"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "huddle: authentication failed (no token: the server requires one)\n");

  // TLS: without the CA the certificate is refused (exit 2, one line); --insecure warns.
  r = huddle_cli(port, {"--token", ann, "rooms"});
  EXPECT_EQ(r.status, 2);
  ASSERT_EQ(r.lines().size(), 1U) << r.out;
  EXPECT_NE(r.out.find("certificate"), std::string::npos) << r.out;
  r = huddle_cli(port, {"--insecure", "--token", ann, "rooms"});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("warning: --insecure"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plans\tplans"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace huddle::testing
