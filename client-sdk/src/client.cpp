#include "huddle/client.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <variant>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "core/board/rules.hpp"
#include "server_message.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace huddle {

namespace v1 = huddle::v1;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* kSubprotocol = "huddle.v1+proto";
constexpr std::uint32_t kHistoryPage = 200;
constexpr std::uint16_t kCloseAuthFailed = 4001;   // docs/PROTOCOL.md section 11.
constexpr std::uint16_t kCloseRateLimited = 4029;  // docs/PROTOCOL.md section 11.

struct Url {
  bool tls = false;  // wss://
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string path = "/ws";
  std::string host_header = "127.0.0.1:8080";  // HOST[:PORT] as written (IPv6 in brackets).
};

// ws://HOST[:PORT][/PATH], wss://HOST[:PORT][/PATH]; HOST may be [IPv6]. Without a scheme:
// plain, port 8080.
Url parse_url(const std::string& url) {
  Url out;
  auto rest = url;
  if (auto p = rest.find("://"); p != std::string::npos) {
    std::string scheme = rest.substr(0, p);
    for (auto& c : scheme) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    out.tls = scheme == "wss" || scheme == "https";
    out.port = out.tls ? "443" : "80";
    rest = rest.substr(p + 3);
  }
  const auto slash = rest.find('/');
  const auto hostport = rest.substr(0, slash);
  out.host_header = hostport;
  if (slash != std::string::npos) {
    out.path = rest.substr(slash);
  }
  std::string::size_type colon = std::string::npos;
  if (!hostport.empty() && hostport.front() == '[') {  // [v6]:port
    const auto close = hostport.find(']');
    out.host = hostport.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < hostport.size() && hostport[close + 1] == ':') {
      colon = close + 1;
    }
  } else {
    colon = hostport.rfind(':');
    out.host = hostport.substr(0, colon);
  }
  if (colon != std::string::npos) {
    out.port = hostport.substr(colon + 1);
  }
  return out;
}

std::string base64url_decode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      v = 62;
    } else if (c == '_' || c == '/') {
      v = 63;
    } else {
      break;  // '=' padding or garbage.
    }
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}

// The `exp` claim of a JWT (seconds since the epoch); 0 if there is none. Not verified: only to
// explain a refusal to the application.
std::int64_t token_exp(const std::string& token) {
  const auto a = token.find('.');
  const auto b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos) {
    return 0;
  }
  const auto payload = base64url_decode(std::string_view(token).substr(a + 1, b - a - 1));
  auto p = payload.find("\"exp\"");
  if (p == std::string::npos || (p = payload.find(':', p)) == std::string::npos) {
    return 0;
  }
  ++p;
  while (p < payload.size() && std::isspace(static_cast<unsigned char>(payload[p])) != 0) {
    ++p;
  }
  std::int64_t exp = 0;
  for (; p < payload.size() && std::isdigit(static_cast<unsigned char>(payload[p])) != 0; ++p) {
    exp = exp * 10 + (payload[p] - '0');
    if (exp > std::numeric_limits<std::int64_t>::max() / 20) {
      return 0;
    }
  }
  return exp;
}

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The room a command names (field 1 of every room command); empty for others.
std::string room_of(const v1::ClientFrame& f) {
  const auto* oneof = v1::ClientFrame::descriptor()->FindOneofByName("command");
  const auto* field = f.GetReflection()->GetOneofFieldDescriptor(f, oneof);
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
    return {};
  }
  const auto& cmd = f.GetReflection()->GetMessage(f, field);
  const auto* room = cmd.GetDescriptor()->FindFieldByNumber(1);
  if (room == nullptr || room->name() != "room_id" || f.has_create_room()) {
    return {};
  }
  return cmd.GetReflection()->GetString(cmd, room);
}

CommandResult client_failure(ClientError e, std::string message) {
  CommandResult r;
  r.client_error = e;
  r.message = std::move(message);
  return r;
}

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
using Strand = asio::strand<asio::any_io_executor>;

// One connection attempt: its stream, read buffer and write queue. Every operation's handler
// holds it, so it outlives them all; dropping a connection closes its socket, which ends them.
struct Connection {
  explicit Connection(const Strand& s) : ws(std::in_place_type<PlainWs>, s) {}
  Connection(const Strand& s, asio::ssl::context& ctx) : ws(std::in_place_type<TlsWs>, s, ctx) {}

  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), ws);
  }
  beast::tcp_stream& tcp() {
    return visit([](auto& w) -> beast::tcp_stream& { return beast::get_lowest_layer(w); });
  }
  TlsWs* tls() { return std::get_if<TlsWs>(&ws); }

  std::variant<PlainWs, TlsWs> ws;
  beast::flat_buffer buffer;
  std::deque<std::string> writes;
  bool writing = false;
};

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Impl> {
  struct Pending {
    v1::ClientFrame frame;
    ResultHandler done;
    bool sent = false;
    std::chrono::steady_clock::time_point sent_at;
  };
  struct Room {
    RoomHandlers handlers;
    std::string invite;  // Sent with each join until one succeeds.
    BoardMirror mirror;
    std::uint64_t epoch = 0;
    v1::ResumeMode mode = v1::RESUME_MODE_UNSPECIFIED;  // Of the last join reply.
    bool awaiting_snapshot = false;
    // Backfill after a SNAPSHOT resume: the events after the mirror's seq up to `target`, read
    // with getHistory; live events wait in `held`.
    bool backfilling = false;
    std::uint64_t target = 0;
    std::vector<v1::Event> pages;
    std::deque<v1::Event> held;
  };

  Impl(asio::any_io_executor ex, ClientOptions o)
      : strand(asio::make_strand(ex)),
        opts(std::move(o)),
        url(parse_url(opts.url)),
        resolver(strand),
        reconnect_timer(strand),
        tick_timer(strand),
        rate_timer(strand),
        refresh_timer(strand),
        token(opts.token),
        member_id(opts.member_id) {
    std::random_device rd;
    rng.seed(rd());
    op_prefix = "sdk-" + std::to_string(rng()) + "-";
    if (url.tls) {
      setup_tls();
    }
  }

  Strand strand;
  const ClientOptions opts;
  const Url url;
  std::optional<asio::ssl::context> tls_ctx;  // wss:// only.
  std::string tls_setup_error;                // The CA file did not load: fatal at connect.
  tcp::resolver resolver;
  asio::steady_timer reconnect_timer;
  asio::steady_timer tick_timer;
  asio::steady_timer rate_timer;     // RATE_LIMITED: commands wait until it fires.
  asio::steady_timer refresh_timer;  // AuthExpiring: when to send RefreshToken.
  std::shared_ptr<Connection> conn;  // The current connection (null between connections).
  std::uint64_t generation = 0;      // Bumped per connection; stale handlers compare it.
  bool stopped = true;
  bool up = false;  // Hello answered on the current connection.
  std::chrono::milliseconds backoff{0};
  bool rate_limited_close = false;  // The last close was 4029: back off longer.
  std::mt19937_64 rng;
  std::string op_prefix;
  std::uint64_t next_op = 1;
  std::uint64_t next_request = 1;
  std::string token;  // The token for the next hello (and the last one refreshed).

  // Flow control: at most max_in_flight commands unanswered; after a RATE_LIMITED reply the
  // commands wait for retry_after_ms (`paused`), then go one at a time until none is unsent.
  std::size_t in_flight = 0;
  bool paused = false;
  bool throttled = false;
  std::uint64_t pause_gen = 0;

  std::map<std::string, Room> rooms;
  std::map<std::uint64_t, Pending> pending;  // Application commands, in issue order.
  std::map<std::uint64_t, std::function<void(const v1::Reply&)>> internal;  // This connection.

  mutable std::mutex mu;  // Guards the copies read from other threads.
  std::string member_id;
  bool connected_copy = false;
  std::vector<std::string> errors;
  Failure failure;
  std::uint64_t attempts = 0;

  void error(std::string what) {
    std::lock_guard lock(mu);
    errors.push_back(std::move(what));
  }

  void setup_tls() {
    tls_ctx.emplace(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls_ctx->native_handle(), TLS1_2_VERSION);
    if (!opts.tls_verify) {
      tls_ctx->set_verify_mode(asio::ssl::verify_none);
      return;
    }
    tls_ctx->set_verify_mode(asio::ssl::verify_peer);
    beast::error_code ec;
    if (opts.ca_file.empty()) {
      tls_ctx->set_default_verify_paths(ec);
    } else {
      tls_ctx->load_verify_file(opts.ca_file, ec);
    }
    if (ec) {
      tls_setup_error = "TLS: cannot load the CA file " +
                        (opts.ca_file.empty() ? std::string("(system store)") : opts.ca_file) +
                        ": " + ec.message();
    }
  }

  // ---- Connection ----

  void connect() {
    if (stopped) {
      return;
    }
    const auto gen = ++generation;
    {
      std::lock_guard lock(mu);
      ++attempts;
    }
    if (!tls_setup_error.empty()) {
      return fatal(gen, FatalError::kTlsVerification, tls_setup_error);
    }
    if (opts.token_provider) {
      try {
        if (auto fresh = opts.token_provider(); !fresh.empty()) {
          token = std::move(fresh);
        }
      } catch (const std::exception& e) {
        error(std::string("token_provider: ") + e.what());
      }
    }
    conn = url.tls ? std::make_shared<Connection>(strand, *tls_ctx)
                   : std::make_shared<Connection>(strand);
    conn->visit([this](auto& ws) {
      ws.read_message_max(opts.max_message_bytes);
      ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
        req.set(beast::http::field::sec_websocket_protocol, kSubprotocol);
      }));
    });
    resolver.async_resolve(url.host, url.port,
                           [self = shared_from_this(), gen, c = conn](
                               beast::error_code ec, tcp::resolver::results_type results) {
                             if (gen != self->generation) {
                               return;
                             }
                             if (ec) {
                               return self->disconnected(gen, "resolve: " + ec.message());
                             }
                             c->tcp().expires_after(std::chrono::seconds(10));
                             c->tcp().async_connect(results, [self, gen, c](beast::error_code ec2,
                                                                            const tcp::endpoint&) {
                               if (gen != self->generation) {
                                 return;
                               }
                               if (ec2) {
                                 return self->disconnected(gen, "connect: " + ec2.message());
                               }
                               if (c->tls() != nullptr) {
                                 return self->tls_handshake(gen, c);
                               }
                               self->ws_handshake(gen, c);
                             });
                           });
  }

  void tls_handshake(std::uint64_t gen, const std::shared_ptr<Connection>& c) {
    auto& stream = c->tls()->next_layer();
    SSL* ssl = stream.native_handle();
    beast::error_code not_ip;
    (void)asio::ip::make_address(url.host, not_ip);
    if (not_ip) {  // SNI takes host names only.
      SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(url.host.c_str()));
    }
    if (opts.tls_verify) {
      if (not_ip) {
        SSL_set1_host(ssl, url.host.c_str());
      } else {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str());
      }
    }
    stream.async_handshake(
        asio::ssl::stream_base::client, [self = shared_from_this(), gen, c](beast::error_code ec) {
          if (gen != self->generation) {
            return;
          }
          if (ec) {
            const auto verify = SSL_get_verify_result(c->tls()->next_layer().native_handle());
            if (self->opts.tls_verify && verify != X509_V_OK) {
              return self->fatal(
                  gen, FatalError::kTlsVerification,
                  std::string("TLS: the server's certificate was refused: ") +
                      X509_verify_cert_error_string(verify) +
                      (self->opts.ca_file.empty() ? " (trust its CA with ca_file, huddle --ca-file)"
                                                  : ""));
            }
            return self->disconnected(gen, "TLS handshake: " + ec.message());
          }
          self->ws_handshake(gen, c);
        });
  }

  void ws_handshake(std::uint64_t gen, const std::shared_ptr<Connection>& c) {
    c->visit([&](auto& ws) {
      ws.async_handshake(url.host_header, url.path,
                         [self = shared_from_this(), gen, c](beast::error_code ec) {
                           if (gen != self->generation) {
                             return;
                           }
                           if (ec) {
                             return self->disconnected(gen, "handshake: " + ec.message());
                           }
                           c->tcp().expires_never();
                           self->on_open(gen);
                         });
    });
  }

  // Why the server refused our token, as one line.
  [[nodiscard]] Failure auth_failure() const {
    if (token.empty()) {
      return {FatalError::kUnauthenticated,
              "authentication failed (no token: the server requires one)"};
    }
    const auto exp = token_exp(token);
    if (exp != 0 && exp * 1000 <= unix_now_ms()) {
      return {FatalError::kTokenExpired, "authentication failed (token expired)"};
    }
    return {FatalError::kUnauthenticated, "authentication failed (the server refused the token)"};
  }

  void on_open(std::uint64_t gen) {
    read(gen);
    v1::ClientFrame hello;
    // With a token, an empty name means the token's; without, the server needs one.
    hello.mutable_hello()->set_display_name(
        opts.display_name.empty() && token.empty() ? "guest" : opts.display_name);
    hello.mutable_hello()->set_token(token);
    {
      std::lock_guard lock(mu);
      hello.mutable_hello()->set_member_id(member_id);
    }
    request(std::move(hello), [self = shared_from_this(), gen](const v1::Reply& r) {
      if (gen != self->generation) {
        return;
      }
      if (r.has_error()) {
        if (r.error().code() == v1::ERROR_CODE_UNAUTHENTICATED) {
          // Retrying a refused token cannot help (and would hammer the server): stop.
          auto why = self->auth_failure();
          return self->fatal(gen, why.error, std::move(why.message));
        }
        self->error("hello refused: " + r.error().message());
        return self->close(gen);
      }
      {
        std::lock_guard lock(self->mu);
        self->member_id = r.hello().member().member_id();
        self->connected_copy = true;
      }
      self->up = true;
      self->backoff = std::chrono::milliseconds(0);
      for (auto& [name, room] : self->rooms) {
        self->send_join(name, room);
      }
      // The offline queue and everything unanswered, in issue order, with their op ids: the
      // server's dedup makes a resend of an applied command a duplicate, not a second effect.
      self->pump();
    });
  }

  void disconnected(std::uint64_t gen, const std::string& why) {
    if (gen != generation) {
      return;
    }
    ++generation;  // Every handler of the old connection is now stale.
    if (conn) {
      beast::error_code ignored;
      conn->tcp().socket().close(ignored);
      conn.reset();
    }
    up = false;
    {
      std::lock_guard lock(mu);
      connected_copy = false;
    }
    internal.clear();
    in_flight = 0;
    paused = false;
    throttled = false;
    rate_timer.cancel();
    refresh_timer.cancel();
    for (auto& [id, p] : pending) {
      p.sent = false;
    }
    for (auto& [name, room] : rooms) {
      room.awaiting_snapshot = false;
      room.backfilling = false;
      room.pages.clear();
      room.held.clear();
    }
    if (stopped) {
      return;
    }
    (void)why;
    backoff = backoff.count() == 0 ? opts.reconnect_min : std::min(backoff * 2, opts.reconnect_max);
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    auto delay = std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(backoff.count()) * jitter(rng)));
    if (rate_limited_close) {
      rate_limited_close = false;
      delay = std::max(delay, opts.rate_limited_reconnect);
    }
    reconnect_timer.expires_after(delay);
    reconnect_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) {
        self->connect();
      }
    });
  }

  void close(std::uint64_t gen) { disconnected(gen, "closed by the client"); }

  // Stops the Client: no reconnect; every pending command completes with `why`.
  void shut_down(ClientError why, const std::string& message) {
    stopped = true;
    reconnect_timer.cancel();
    tick_timer.cancel();
    resolver.cancel();
    disconnected(generation, message);
    auto failed = std::move(pending);
    pending.clear();
    for (auto& [id, p] : failed) {
      if (p.done) {
        p.done(client_failure(why, message));
      }
    }
  }

  void fatal(std::uint64_t gen, FatalError kind, std::string message) {
    if (gen != generation || stopped) {
      return;
    }
    error(message);
    Failure f{kind, message};
    {
      std::lock_guard lock(mu);
      failure = f;
    }
    shut_down(ClientError::kFatal, message);
    if (opts.on_fatal) {
      opts.on_fatal(f);
    }
  }

  // The server closed the connection with 4001: it refused the token or the token expired.
  void on_auth_closed(std::uint64_t gen) {
    if (!up) {
      auto why = auth_failure();
      return fatal(gen, why.error, std::move(why.message));
    }
    if (opts.token_provider) {
      return disconnected(gen, "token expired: reconnecting with a fresh one");
    }
    fatal(gen, FatalError::kTokenExpired, "authentication failed (token expired)");
  }

  void read(std::uint64_t gen) {
    auto c = conn;
    c->visit([&](auto& ws) {
      ws.async_read(
          c->buffer, [self = shared_from_this(), gen, c](beast::error_code ec, std::size_t) {
            if (gen != self->generation) {
              return;
            }
            if (ec) {
              if (ec == websocket::error::closed) {
                const auto code = c->visit([](auto& w) { return w.reason().code; });
                if (code == kCloseAuthFailed) {
                  return self->on_auth_closed(gen);
                }
                self->rate_limited_close = code == kCloseRateLimited;
                return self->disconnected(gen, "closed by the server: " + std::to_string(code));
              }
              self->error("read: " + ec.message());
              return self->disconnected(gen, ec.message());
            }
            const auto data = c->buffer.cdata();
            auto message = sdk::decode_server_message(
                std::string_view(static_cast<const char*>(data.data()), data.size()),
                c->visit([](auto& w) { return w.got_text(); }));
            c->buffer.consume(c->buffer.size());
            if (!message) {
              // A broken or hostile server: report, drop the connection, reconnect. Never crash.
              self->error("undecodable server message");
              return self->close(gen);
            }
            for (auto& frame : *message->mutable_frames()) {
              self->on_frame(gen, frame);
              if (gen != self->generation) {
                return;  // The frame made us drop the connection.
              }
            }
            self->read(gen);
          });
    });
  }

  void write(std::string bytes) {
    if (!conn) {
      return;
    }
    conn->writes.push_back(std::move(bytes));
    do_write(conn);
  }

  void do_write(const std::shared_ptr<Connection>& c) {
    if (c->writing || c->writes.empty()) {
      return;
    }
    c->writing = true;
    c->visit([&](auto& ws) {
      ws.binary(true);
      ws.async_write(asio::buffer(c->writes.front()), [self = shared_from_this(), gen = generation,
                                                       c](beast::error_code ec, std::size_t) {
        if (gen != self->generation) {
          return;
        }
        c->writing = false;
        if (ec) {
          return self->disconnected(gen, "write: " + ec.message());
        }
        c->writes.pop_front();
        self->do_write(c);
      });
    });
  }

  // Runs `fn` after `delay` if the connection is still `gen`.
  template <class Fn>
  void after(std::chrono::milliseconds delay, std::uint64_t gen, Fn fn) {
    auto timer = std::make_shared<asio::steady_timer>(strand, delay);
    timer->async_wait(
        [self = shared_from_this(), timer, gen, fn = std::move(fn)](beast::error_code ec) mutable {
          if (!ec && gen == self->generation) {
            fn();
          }
        });
  }

  static std::chrono::milliseconds retry_after(const v1::Reply& r) {
    return std::chrono::milliseconds(std::max<std::uint32_t>(r.error().retry_after_ms(), 10));
  }

  // An internal request on the current connection (hello, join, history, refresh). Rate
  // limited: sent again after the server's retry_after_ms.
  void request(v1::ClientFrame frame, std::function<void(const v1::Reply&)> on_reply) {
    const auto id = next_request++;
    frame.set_request_id(id);
    auto bytes = frame.SerializeAsString();
    internal[id] = [self = shared_from_this(), gen = generation, frame = std::move(frame),
                    on_reply = std::move(on_reply)](const v1::Reply& r) mutable {
      if (r.has_error() && r.error().code() == v1::ERROR_CODE_RATE_LIMITED) {
        return self->after(retry_after(r), gen,
                           [self, frame = std::move(frame), on_reply = std::move(on_reply)]() {
                             self->request(frame, on_reply);
                           });
      }
      on_reply(r);
    };
    write(std::move(bytes));
  }

  void write_command(std::uint64_t id, Pending& p) {
    p.frame.set_request_id(id);
    p.sent = true;
    p.sent_at = std::chrono::steady_clock::now();
    ++in_flight;
    write(p.frame.SerializeAsString());
  }

  // Sends unsent commands in issue order, as many as the flow control allows.
  void pump() {
    if (!up || paused) {
      return;
    }
    const std::size_t limit = throttled                 ? 1
                              : opts.max_in_flight == 0 ? std::numeric_limits<std::size_t>::max()
                                                        : opts.max_in_flight;
    for (auto& [id, p] : pending) {
      if (in_flight >= limit) {
        return;
      }
      if (!p.sent) {
        write_command(id, p);
      }
    }
    throttled = false;  // Everything is sent.
  }

  // RATE_LIMITED: no command goes out for `delay`, then one at a time.
  void pause_for(std::chrono::milliseconds delay) {
    paused = true;
    throttled = true;
    const auto gen = ++pause_gen;
    rate_timer.expires_after(delay);
    rate_timer.async_wait([self = shared_from_this(), gen](beast::error_code ec) {
      if (ec || gen != self->pause_gen || !self->paused) {
        return;
      }
      self->paused = false;
      self->pump();
    });
  }

  // AuthExpiring: get a fresh token halfway to the expiry (a fresh short token would at once
  // bring another AuthExpiring) and send it as RefreshToken.
  void on_auth_expiring(std::uint64_t gen, std::int64_t expires_unix_ms) {
    if (!opts.on_token_expiring && !opts.token_provider) {
      return;  // The application may call refresh_token(); else 4001 at expiry.
    }
    const auto delay = std::max<std::int64_t>(0, (expires_unix_ms - unix_now_ms()) / 2);
    refresh_timer.expires_after(std::chrono::milliseconds(delay));
    refresh_timer.async_wait(
        [self = shared_from_this(), gen, expires_unix_ms](beast::error_code ec) {
          if (ec || gen != self->generation || !self->up) {
            return;
          }
          std::string fresh;
          try {
            fresh = self->opts.on_token_expiring ? self->opts.on_token_expiring(expires_unix_ms)
                                                 : self->opts.token_provider();
          } catch (const std::exception& e) {
            self->error(std::string("token refresh: ") + e.what());
          }
          if (fresh.empty()) {
            return;
          }
          self->token = fresh;
          v1::ClientFrame f;
          f.mutable_refresh_token()->set_token(std::move(fresh));
          self->request(std::move(f), [self](const v1::Reply& r) {
            if (r.has_error()) {
              // The old token stays in force until it expires (then 4001).
              self->error("token refresh refused: " + v1::ErrorCode_Name(r.error().code()));
            }
          });
        });
  }

  // An application command (on the strand).
  void submit(v1::ClientFrame frame, ResultHandler done) {
    if (stopped && generation > 0) {
      std::unique_lock lock(mu);
      if (failure.error != FatalError::kNone) {
        auto message = failure.message;
        lock.unlock();
        return done(client_failure(ClientError::kFatal, std::move(message)));
      }
      lock.unlock();
      return done(client_failure(ClientError::kStopped, "the client stopped"));
    }
    if (pending.size() >= opts.max_queued_commands) {
      return done(client_failure(ClientError::kQueueFull, "offline queue full"));
    }
    const auto room = room_of(frame);
    if (!room.empty() && !frame.has_join() && !rooms.contains(room)) {
      return done(client_failure(ClientError::kNotJoined, "join the room first"));
    }
    if (frame.op_id().empty() &&
        (board::is_board_command(frame.command_case()) || frame.has_create_room())) {
      frame.set_op_id(op_prefix + std::to_string(next_op++));
    }
    const auto id = next_request++;
    auto& p = pending[id];
    p.frame = std::move(frame);
    p.done = std::move(done);
    pump();
  }

  // ---- Rooms ----

  void send_join(const std::string& name, Room& room) {
    v1::ClientFrame join;
    join.mutable_join()->set_room_id(name);
    if (room.mirror.has_board()) {
      join.mutable_join()->mutable_resume()->set_epoch(room.epoch);
      join.mutable_join()->mutable_resume()->set_last_seq(room.mirror.seq());
    }
    if (!room.invite.empty()) {
      join.mutable_join()->set_invite(room.invite);
    }
    room.awaiting_snapshot = false;
    room.backfilling = false;
    room.pages.clear();
    room.held.clear();
    request(std::move(join),
            [self = shared_from_this(), name, gen = generation](const v1::Reply& r) {
              auto it = self->rooms.find(name);
              if (gen != self->generation || it == self->rooms.end()) {
                return;
              }
              auto& joined = it->second;
              if (r.has_error()) {
                self->error("join " + name + ": " + v1::ErrorCode_Name(r.error().code()) + ": " +
                            r.error().message());
                if (joined.handlers.on_join_error) {
                  CommandResult result;
                  result.code = r.error().code();
                  result.message = r.error().message();
                  result.reply = r;
                  joined.handlers.on_join_error(result);
                }
                return;
              }
              joined.invite.clear();  // A member now: the roster admits it from here on.
              joined.epoch = r.join().epoch();
              joined.mode = r.join().mode();
              joined.awaiting_snapshot = joined.mode != v1::RESUME_MODE_EXACT;
            });
  }

  void on_frame(std::uint64_t gen, const v1::ServerFrame& frame) {
    switch (frame.frame_case()) {
      case v1::ServerFrame::kReply: return on_reply(frame.reply());
      case v1::ServerFrame::kSnapshot: return on_snapshot(frame.snapshot());
      case v1::ServerFrame::kEventBatch:
        for (const auto& e : frame.event_batch().events()) {
          on_event(gen, e);
          if (gen != generation) {
            return;
          }
        }
        return;
      case v1::ServerFrame::kPresence: {
        auto it = rooms.find(frame.presence().room_id());
        if (it != rooms.end() && it->second.handlers.on_presence) {
          it->second.handlers.on_presence(frame.presence());
        }
        return;
      }
      case v1::ServerFrame::kTyping: {
        auto it = rooms.find(frame.typing().room_id());
        if (it != rooms.end() && it->second.handlers.on_typing) {
          it->second.handlers.on_typing(frame.typing());
        }
        return;
      }
      case v1::ServerFrame::kRoomClosed: {
        auto it = rooms.find(frame.room_closed().room_id());
        if (it == rooms.end()) {
          return;
        }
        auto handlers = std::move(it->second.handlers);
        rooms.erase(it);
        error("room " + frame.room_closed().room_id() + " closed: " + frame.room_closed().reason());
        if (handlers.on_closed) {
          handlers.on_closed(frame.room_closed());
        }
        return;
      }
      case v1::ServerFrame::kAuthExpiring:
        return on_auth_expiring(gen, frame.auth_expiring().expires_unix_ms());
      case v1::ServerFrame::FRAME_NOT_SET: return;
    }
  }

  void on_reply(const v1::Reply& r) {
    if (auto it = internal.find(r.request_id()); it != internal.end()) {
      auto fn = std::move(it->second);
      internal.erase(it);
      return fn(r);
    }
    auto it = pending.find(r.request_id());
    if (it == pending.end()) {
      return;  // Timed out already, or an anonymous error (request id 0).
    }
    if (it->second.sent) {
      --in_flight;
    }
    if (r.has_error() && r.error().code() == v1::ERROR_CODE_RATE_LIMITED) {
      // Nothing was done: send it again (same op id) once the server accepts commands.
      it->second.sent = false;
      return pause_for(retry_after(r));
    }
    auto done = std::move(it->second.done);
    pending.erase(it);
    pump();
    CommandResult result;
    result.reply = r;
    if (r.has_error()) {
      result.code = r.error().code();
      result.message = r.error().message();
    }
    if (done) {
      done(std::move(result));
    }
  }

  void on_snapshot(const v1::RoomSnapshot& snap) {
    auto it = rooms.find(snap.room_id());
    if (it == rooms.end() || !it->second.awaiting_snapshot) {
      return;
    }
    auto& room = it->second;
    room.awaiting_snapshot = false;
    if (room.mode == v1::RESUME_MODE_SNAPSHOT && room.mirror.has_board() &&
        snap.seq() > room.mirror.seq()) {
      // The application must still see every event it missed: read them, oldest last.
      room.backfilling = true;
      room.target = snap.seq();
      room.pages.clear();
      return fetch_history(snap.room_id(), snap.seq() + 1);
    }
    const bool reset = room.mode == v1::RESUME_MODE_RESET && room.mirror.has_board();
    room.mirror.reset(snap);
    if (reset && room.handlers.on_reset) {
      room.handlers.on_reset(room.mirror);
    } else if (!reset && room.handlers.on_ready) {
      room.handlers.on_ready(room.mirror);
    }
    // Events that arrived while the snapshot was awaited: older ones are duplicates now.
    auto held = std::move(room.held);
    room.held.clear();
    for (const auto& e : held) {
      deliver(generation, snap.room_id(), room, e);
    }
  }

  void fetch_history(const std::string& name, std::uint64_t before) {
    v1::ClientFrame f;
    f.mutable_get_history()->set_room_id(name);
    f.mutable_get_history()->set_before_seq(before);
    f.mutable_get_history()->set_limit(kHistoryPage);
    request(std::move(f), [self = shared_from_this(), name, gen = generation](const v1::Reply& r) {
      auto it = self->rooms.find(name);
      if (gen != self->generation || it == self->rooms.end() || !it->second.backfilling) {
        return;
      }
      auto& room = it->second;
      if (r.has_error() || r.history().events().empty()) {
        self->error("history for " + name + ": " + (r.has_error() ? r.error().message() : "empty"));
        return self->close(gen);  // Reconnect and resume from where the mirror is.
      }
      const auto& events = r.history().events();
      room.pages.insert(room.pages.begin(), events.begin(), events.end());
      const auto& oldest = room.pages.front();
      if (oldest.prev_seq() > room.mirror.seq() && r.history().has_more()) {
        return self->fetch_history(name, oldest.seq());
      }
      self->finish_backfill(gen, name, room);
    });
  }

  void finish_backfill(std::uint64_t gen, const std::string& name, Room& room) {
    room.backfilling = false;
    auto pages = std::move(room.pages);
    room.pages.clear();
    for (const auto& e : pages) {
      deliver(gen, name, room, e);
      if (gen != generation) {
        return;
      }
    }
    if (room.mirror.seq() < room.target) {
      error("backfill of " + name + " stopped short");
      return close(gen);
    }
    auto held = std::move(room.held);
    room.held.clear();
    for (const auto& e : held) {
      deliver(gen, name, room, e);
      if (gen != generation) {
        return;
      }
    }
  }

  void on_event(std::uint64_t gen, const v1::Event& e) {
    auto it = rooms.find(e.room_id());
    if (it == rooms.end()) {
      return;
    }
    auto& room = it->second;
    if (room.backfilling || room.awaiting_snapshot) {
      room.held.push_back(e);
      return;
    }
    deliver(gen, e.room_id(), room, e);
  }

  void deliver(std::uint64_t gen, const std::string& name, Room& room, const v1::Event& e) {
    switch (room.mirror.apply(e)) {
      case BoardMirror::Applied::kApplied:
        if (room.handlers.on_event) {
          room.handlers.on_event(e, room.mirror);
        }
        return;
      case BoardMirror::Applied::kDuplicate: return;
      case BoardMirror::Applied::kGap:
        // Never silent (invariant 2): resume from the last event the mirror holds.
        error("gap in " + name + " before seq " + std::to_string(e.seq()) + ": resyncing");
        if (gen == generation && up) {
          send_join(name, room);
        }
        return;
    }
  }

  // ---- Timeouts ----

  void tick() {
    tick_timer.expires_after(std::chrono::milliseconds(200));
    tick_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->stopped) {
        return;
      }
      const auto now = std::chrono::steady_clock::now();
      for (auto it = self->pending.begin(); it != self->pending.end();) {
        if (it->second.sent && now - it->second.sent_at > self->opts.request_timeout) {
          auto done = std::move(it->second.done);
          it = self->pending.erase(it);
          --self->in_flight;
          if (done) {
            done(client_failure(ClientError::kTimeout, "no reply in time"));
          }
        } else {
          ++it;
        }
      }
      self->pump();
      self->tick();
    });
  }
};

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

Client::~Client() {
  // Handlers hold the Impl alive; stop() makes them finish.
  stop();
}

void Client::start() {
  asio::dispatch(impl_->strand, [impl = impl_] {
    if (!impl->stopped) {
      return;
    }
    impl->stopped = false;
    {
      std::lock_guard lock(impl->mu);
      impl->failure = {};
    }
    impl->tick();
    impl->connect();
  });
}

void Client::stop() {
  asio::dispatch(impl_->strand, [impl = impl_] {
    if (impl->stopped) {
      return;
    }
    impl->shut_down(ClientError::kStopped, "the client stopped");
  });
}

void Client::join(const std::string& room, RoomHandlers handlers, std::string invite) {
  asio::dispatch(impl_->strand, [impl = impl_, room, handlers = std::move(handlers),
                                 invite = std::move(invite)]() mutable {
    auto& r = impl->rooms[room];
    r.handlers = std::move(handlers);
    r.invite = std::move(invite);
    if (impl->up) {
      impl->send_join(room, r);
    }
  });
}

void Client::send(v1::ClientFrame frame, ResultHandler done) {
  asio::dispatch(impl_->strand,
                 [impl = impl_, frame = std::move(frame), done = std::move(done)]() mutable {
                   impl->submit(std::move(frame), std::move(done));
                 });
}

std::future<CommandResult> Client::send(v1::ClientFrame frame) {
  auto promise = std::make_shared<std::promise<CommandResult>>();
  auto future = promise->get_future();
  send(std::move(frame), [promise](CommandResult r) { promise->set_value(std::move(r)); });
  return future;
}

namespace {

// A frame whose command is built by `fill`.
template <class Fill>
v1::ClientFrame frame_with(Fill&& fill) {
  v1::ClientFrame f;
  fill(f);
  return f;
}

}  // namespace

Client::Future Client::list_rooms() {
  return send(frame_with([](auto& f) { f.mutable_list_rooms(); }));
}

Client::Future Client::create_room(const std::string& room, const std::string& title,
                                   const std::string& goal) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_create_room();
    c->set_room_id(room);
    c->set_title(title);
    c->mutable_goal()->set_objective(goal);
  }));
}

Client::Future Client::create_room_with(const std::string& room, const RoomSettings& settings) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_create_room();
    c->set_room_id(room);
    c->set_title(settings.title);
    c->mutable_goal()->set_objective(settings.goal);
    c->set_anonymous(settings.anonymous);
    c->set_hide_ideas(settings.hide_ideas);
    c->set_private_room(settings.private_room);
  }));
}

std::future<Invite> Client::create_invite(const std::string& room, v1::Role role,
                                          std::chrono::seconds ttl) {
  auto promise = std::make_shared<std::promise<Invite>>();
  auto future = promise->get_future();
  v1::ClientFrame f;
  auto* c = f.mutable_create_invite();
  c->set_room_id(room);
  c->set_role(role);
  c->set_ttl_seconds(static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(ttl.count(), 0, std::numeric_limits<std::uint32_t>::max())));
  send(std::move(f), [promise](CommandResult r) {
    Invite invite;
    if (r.ok()) {
      invite.invite = r.reply.invite().invite();
      invite.expires_unix_ms = r.reply.invite().expires_unix_ms();
    }
    invite.result = std::move(r);
    promise->set_value(std::move(invite));
  });
  return future;
}

std::future<CommandResult> Client::refresh_token(std::string token) {
  auto promise = std::make_shared<std::promise<CommandResult>>();
  auto future = promise->get_future();
  asio::dispatch(impl_->strand, [impl = impl_, token = std::move(token), promise] {
    impl->token = token;
    if (!impl->up) {
      promise->set_value(CommandResult{});  // The next hello carries it.
      return;
    }
    v1::ClientFrame f;
    f.mutable_refresh_token()->set_token(token);
    impl->submit(std::move(f), [promise](CommandResult r) { promise->set_value(std::move(r)); });
  });
  return future;
}

Client::Future Client::leave(const std::string& room) {
  return send(frame_with([&](auto& f) { f.mutable_leave()->set_room_id(room); }));
}

Client::Future Client::history(const std::string& room, Id before_seq, std::uint32_t limit) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_get_history();
    c->set_room_id(room);
    c->set_before_seq(before_seq);
    c->set_limit(limit);
  }));
}

Client::Future Client::mark_read(const std::string& room, Id seq) {
  return send(frame_with([&](auto& f) {
    f.mutable_mark_read()->set_room_id(room);
    f.mutable_mark_read()->set_seq(seq);
  }));
}

Client::Future Client::post_chat(const std::string& room, const std::string& text) {
  return send(frame_with([&](auto& f) {
    f.mutable_post_chat()->set_room_id(room);
    f.mutable_post_chat()->set_text(text);
  }));
}

Client::Future Client::set_goal(const std::string& room, const std::string& objective,
                                const std::string& success_criteria) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_set_goal();
    c->set_room_id(room);
    c->mutable_goal()->set_objective(objective);
    c->mutable_goal()->set_success_criteria(success_criteria);
  }));
}

Client::Future Client::set_role(const std::string& room, const std::string& member_id,
                                v1::Role role) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_set_role();
    c->set_room_id(room);
    c->set_member_id(member_id);
    c->set_role(role);
  }));
}

Client::Future Client::set_phase(const std::string& room, v1::Phase phase,
                                 std::uint32_t timer_minutes, std::int64_t deadline_unix_ms) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_set_phase();
    c->set_room_id(room);
    c->set_phase(phase);
    c->set_timer_minutes(timer_minutes);
    c->set_deadline_unix_ms(deadline_unix_ms);
  }));
}

Client::Future Client::set_voting(const std::string& room, std::uint32_t budget,
                                  std::uint32_t per_idea_cap) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_set_voting();
    c->set_room_id(room);
    c->set_budget(budget);
    c->set_per_idea_cap(per_idea_cap);
  }));
}

Client::Future Client::set_hide_ideas(const std::string& room, bool hide) {
  return send(frame_with([&](auto& f) {
    f.mutable_set_hide_ideas()->set_room_id(room);
    f.mutable_set_hide_ideas()->set_hide_ideas(hide);
  }));
}

Client::Future Client::reveal_ideas(const std::string& room) {
  return send(frame_with([&](auto& f) { f.mutable_reveal_ideas()->set_room_id(room); }));
}

Client::Future Client::post_idea(const std::string& room, const std::string& text,
                                 const std::vector<std::string>& tags) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_post_idea();
    c->set_room_id(room);
    c->set_text(text);
    for (const auto& t : tags) {
      c->add_tags(t);
    }
  }));
}

Client::Future Client::edit_idea(const std::string& room, Id idea, const std::string& text,
                                 const std::vector<std::string>& tags) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_edit_idea();
    c->set_room_id(room);
    c->set_idea_id(idea);
    c->set_text(text);
    for (const auto& t : tags) {
      c->add_tags(t);
    }
  }));
}

Client::Future Client::delete_idea(const std::string& room, Id idea) {
  return send(frame_with([&](auto& f) {
    f.mutable_delete_idea()->set_room_id(room);
    f.mutable_delete_idea()->set_idea_id(idea);
  }));
}

Client::Future Client::move_idea(const std::string& room, Id idea, Id group) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_move_idea();
    c->set_room_id(room);
    c->set_idea_id(idea);
    c->set_group_id(group);
  }));
}

Client::Future Client::create_group(const std::string& room, const std::string& name) {
  return send(frame_with([&](auto& f) {
    f.mutable_create_group()->set_room_id(room);
    f.mutable_create_group()->set_name(name);
  }));
}

Client::Future Client::rename_group(const std::string& room, Id group, const std::string& name) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_rename_group();
    c->set_room_id(room);
    c->set_group_id(group);
    c->set_name(name);
  }));
}

Client::Future Client::merge_groups(const std::string& room, Id from_group, Id into_group) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_merge_groups();
    c->set_room_id(room);
    c->set_from_group_id(from_group);
    c->set_into_group_id(into_group);
  }));
}

Client::Future Client::delete_group(const std::string& room, Id group) {
  return send(frame_with([&](auto& f) {
    f.mutable_delete_group()->set_room_id(room);
    f.mutable_delete_group()->set_group_id(group);
  }));
}

Client::Future Client::post_comment(const std::string& room, Id idea, const std::string& text) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_post_comment();
    c->set_room_id(room);
    c->set_idea_id(idea);
    c->set_text(text);
  }));
}

Client::Future Client::delete_comment(const std::string& room, Id idea, Id comment) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_delete_comment();
    c->set_room_id(room);
    c->set_idea_id(idea);
    c->set_comment_id(comment);
  }));
}

Client::Future Client::react(const std::string& room, Id idea, v1::Reaction reaction, bool remove) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_react();
    c->set_room_id(room);
    c->set_idea_id(idea);
    c->set_reaction(reaction);
    c->set_remove(remove);
  }));
}

Client::Future Client::vote(const std::string& room, Id idea) {
  return send(frame_with([&](auto& f) {
    f.mutable_vote()->set_room_id(room);
    f.mutable_vote()->set_idea_id(idea);
  }));
}

Client::Future Client::unvote(const std::string& room, Id idea) {
  return send(frame_with([&](auto& f) {
    f.mutable_unvote()->set_room_id(room);
    f.mutable_unvote()->set_idea_id(idea);
  }));
}

Client::Future Client::create_action(const std::string& room, const std::string& title,
                                     const std::string& owner_id, const std::string& due_date,
                                     Id idea) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_create_action();
    c->set_room_id(room);
    c->set_title(title);
    c->set_owner_id(owner_id);
    c->set_due_date(due_date);
    c->set_idea_id(idea);
  }));
}

Client::Future Client::update_action(const std::string& room, Id action, const std::string& title,
                                     const std::string& owner_id, const std::string& due_date) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_update_action();
    c->set_room_id(room);
    c->set_action_id(action);
    c->set_title(title);
    c->set_owner_id(owner_id);
    c->set_due_date(due_date);
  }));
}

Client::Future Client::set_action_status(const std::string& room, Id action,
                                         v1::ActionStatus status) {
  return send(frame_with([&](auto& f) {
    auto* c = f.mutable_set_action_status();
    c->set_room_id(room);
    c->set_action_id(action);
    c->set_status(status);
  }));
}

Client::Future Client::export_board(const std::string& room, v1::ExportFormat format) {
  return send(frame_with([&](auto& f) {
    f.mutable_export_()->set_room_id(room);
    f.mutable_export_()->set_format(format);
  }));
}

std::future<v1::BoardSnapshot> Client::board(const std::string& room) {
  auto promise = std::make_shared<std::promise<v1::BoardSnapshot>>();
  auto future = promise->get_future();
  asio::dispatch(impl_->strand, [impl = impl_, room, promise] {
    auto it = impl->rooms.find(room);
    promise->set_value(it == impl->rooms.end() ? v1::BoardSnapshot{}
                                               : it->second.mirror.snapshot());
  });
  return future;
}

std::string Client::member_id() const {
  std::lock_guard lock(impl_->mu);
  return impl_->member_id;
}

bool Client::connected() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connected_copy;
}

std::vector<std::string> Client::errors() const {
  std::lock_guard lock(impl_->mu);
  return impl_->errors;
}

Failure Client::fatal_error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failure;
}

std::uint64_t Client::connection_attempts() const {
  std::lock_guard lock(impl_->mu);
  return impl_->attempts;
}

}  // namespace huddle
