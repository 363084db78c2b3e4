#include "server/net/session.hpp"

#include <array>
#include <random>
#include <type_traits>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <google/protobuf/descriptor.h>

#include "server/codec/wire_errors.hpp"
#include "server/net/write_scheduler.hpp"
#include "server/room/room.hpp"
#include "server/util/log.hpp"

namespace huddle::net {

namespace websocket = beast::websocket;
namespace http = beast::http;
namespace v1 = huddle::v1;

namespace {

std::string generate_guest_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "g-";
  auto bits = rng();
  for (int i = 0; i < 16; ++i) {
    id.push_back(kHex[bits & 0xF]);
    bits >>= 4;
  }
  return id;
}

// The room a room-scoped command names (every such command has `room_id` as field 1); nullptr
// for other commands. Reflection keeps this true for every command added to the oneof.
const std::string* room_of(const v1::ClientFrame& frame) {
  const auto* oneof = v1::ClientFrame::descriptor()->FindOneofByName("command");
  const auto* field = frame.GetReflection()->GetOneofFieldDescriptor(frame, oneof);
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
    return nullptr;
  }
  const auto& command = frame.GetReflection()->GetMessage(frame, field);
  const auto* room = command.GetDescriptor()->FindFieldByNumber(1);
  if (room == nullptr || room->name() != "room_id") {
    return nullptr;
  }
  return &command.GetReflection()->GetStringReference(command, room, nullptr);
}

using WsVariant = std::variant<websocket::stream<PlainStream>, websocket::stream<TlsStream>>;

std::int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_benign(const beast::error_code& ec) {
  return ec == websocket::error::closed || ec == boost::asio::error::operation_aborted ||
         ec == boost::asio::error::eof || ec == beast::error::timeout ||
         ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe ||
         ec == boost::asio::error::bad_descriptor;
}

// Plain TCP reads land here: one buffer per shard thread, so an idle connection holds none.
// A message that arrives whole is handed to the session in place (ws::FrameReader).
constexpr std::size_t kScratchBytes = 64 * 1024;
// Reads per readiness before the shard serves others (the rest waits for a posted turn).
constexpr std::size_t kReadsPerTurn = 4;

std::span<char> scratch() {
  thread_local std::array<char, kScratchBytes> buffer;
  return buffer;
}

}  // namespace

struct Session::Handshake {
  WsVariant ws;
};

Session::Session(AnyStream&& stream, NetContext& ctx, std::size_t shard, codec::Encoding encoding,
                 PeerSlot slot)
    : handshake_(std::visit(
          [](auto&& s) {
            using S = std::decay_t<decltype(s)>;
            return std::make_unique<Handshake>(
                Handshake{WsVariant(std::in_place_type<websocket::stream<S>>, std::move(s))});
          },
          std::move(stream))),
      reader_(ctx.options.max_message_bytes),
      ctx_(ctx),
      slot_(std::move(slot)),
      limiter_(ctx.options.limits),
      shard_(shard),
      encoding_(encoding),
      conn_id_(ctx.next_conn_id.fetch_add(1)),
      outbox_(std::make_shared<fanout::Outbox>(encoding, ctx.options.outbox)) {
  ctx_.connections.fetch_add(1);
  if (ctx_.metrics != nullptr) {
    ctx_.metrics->connections[static_cast<std::size_t>(encoding_)].add(1);
  }
}

Session::~Session() {
  ctx_.connections.fetch_sub(1);
  if (ctx_.metrics != nullptr) {
    ctx_.metrics->connections[static_cast<std::size_t>(encoding_)].add(-1);
  }
}

void Session::run(http::request<http::string_body> req) {
  {
    std::lock_guard lock(ctx_.sessions_mu);
    ctx_.sessions.emplace(conn_id_, weak_from_this());
  }
  outbox_->set_wakeup([weak = weak_from_this()](bool at_once) {
    if (auto self = weak.lock()) {
      self->on_outbox_ready(at_once);
    }
  });
  std::visit(
      [&](auto& ws) {
        beast::get_lowest_layer(ws).expires_never();  // The websocket's own timeout takes over.
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = ctx_.options.handshake_timeout;
        timeouts.idle_timeout = websocket::stream_base::none();  // After the upgrade: Keepalive.
        timeouts.keep_alive_pings = false;
        ws.set_option(timeouts);
        const std::string_view subprotocol = encoding_ == codec::Encoding::kJson
                                                 ? codec::kJsonSubprotocol
                                                 : codec::kProtoSubprotocol;
        ws.set_option(
            websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
              res.set(http::field::server, "huddle");
              res.set(http::field::sec_websocket_protocol, subprotocol);
            }));
        ws.async_accept(req, beast::bind_front_handler(&Session::on_accept, shared_from_this()));
      },
      handshake_->ws);
}

void Session::on_accept(beast::error_code ec) {
  if (ec) {
    log::net()->debug("upgrade failed conn={} err={}", conn_id_, ec.message());
    return finish();
  }
  // The upgrade is done: take the connection out of Beast's stream, which is freed.
  std::visit(
      [this](auto& ws) {
        using Ws = std::decay_t<decltype(ws)>;
        if constexpr (std::is_same_v<Ws, websocket::stream<PlainStream>>) {
          io_.emplace<boost::asio::ip::tcp::socket>(std::move(ws.next_layer().socket()));
        } else {
          io_.emplace<TlsStream>(std::move(ws.next_layer()));
        }
      },
      handshake_->ws);
  handshake_.reset();
  if (auto* socket = std::get_if<boost::asio::ip::tcp::socket>(&io_)) {
    beast::error_code ignored;
    socket->non_blocking(true, ignored);
  } else {
    tls_rx_ = std::make_unique<std::array<char, 16 * 1024>>();
  }
  log::net()->debug("connected conn={} shard={} peer={}", conn_id_, shard_, slot_.ip());
  accepted_ = true;
  last_rx_ = std::chrono::steady_clock::now();
  ctx_.keepalives[shard_]->add(weak_from_this());
  if (ctx_.options.auth.auth_timeout.count() > 0) {
    arm_auth_timer(std::chrono::system_clock::now() + ctx_.options.auth.auth_timeout, false);
  }
  read_now();
  if (closing_) {
    do_write();  // A close was requested during the upgrade (server shutdown): send it now.
  }
}

void Session::close_from_anywhere(std::uint16_t code) {
  boost::asio::post(ctx_.shards->executor(shard_),
                    [self = shared_from_this(), code] { self->start_close(code); });
}

// ---- Reading ----

// Plain TCP: read what the kernel holds; when it holds no more, wait for readability. The wait is
// armed only right after a read that drained the socket, in the same handler (the reactor is
// edge-triggered: a readiness seen while no wait is pending would be lost).
void Session::read_now() {
  if (finished_) {
    return;
  }
  if (auto* tls = std::get_if<TlsStream>(&io_)) {
    tls->async_read_some(boost::asio::buffer(*tls_rx_),
                         beast::bind_front_handler(&Session::on_tls_read, shared_from_this()));
    return;
  }
  auto& socket = std::get<boost::asio::ip::tcp::socket>(io_);
  const auto buffer = scratch();
  for (std::size_t i = 0; i < kReadsPerTurn; ++i) {
    beast::error_code ec;
    const auto n = socket.read_some(boost::asio::buffer(buffer.data(), buffer.size()), ec);
    if (ec == boost::asio::error::would_block) {
      break;
    }
    if (ec) {
      return on_read_error(ec);
    }
    on_bytes(buffer.first(n));
    if (finished_) {
      return;
    }
    if (n < buffer.size()) {
      break;  // The socket is drained.
    }
    if (i + 1 == kReadsPerTurn) {
      // More may be waiting: let the shard's other work run first, then read again.
      boost::asio::post(ctx_.shards->executor(shard_),
                        [self = shared_from_this()] { self->read_now(); });
      return;
    }
  }
  socket.async_wait(boost::asio::socket_base::wait_read,
                    [self = shared_from_this()](const beast::error_code& ec) {
                      if (ec) {
                        return self->on_read_error(ec);
                      }
                      self->read_now();
                    });
}

void Session::on_tls_read(beast::error_code ec, std::size_t bytes) {
  if (ec) {
    return on_read_error(ec);
  }
  on_bytes(std::span<char>(tls_rx_->data(), bytes));
  read_now();
}

void Session::on_read_error(beast::error_code ec) {
  if (!is_benign(ec) && !tearing_down_) {
    log::net()->debug("read failed conn={} err={}", conn_id_, ec.message());
  }
  finish();  // The peer's EOF ends a teardown, and anything else ends the connection.
}

void Session::on_bytes(std::span<char> bytes) {
  last_rx_ = std::chrono::steady_clock::now();
  ping_sent_ = false;
  if (tearing_down_ || reader_.done()) {
    return;  // After the close frames, bytes are read only to see the peer's EOF.
  }
  if (const auto code = reader_.feed(bytes, *this); code != 0) {
    on_protocol_error(code);
  }
}

void Session::on_protocol_error(std::uint16_t code) {
  if (code == ws::kCloseTooBig && ctx_.metrics != nullptr) {
    ctx_.metrics->reject(metrics::Rejected::kTooBig);
  }
  log::net()->debug("protocol error conn={} close={}", conn_id_, code);
  failed_ = true;
  if (close_sent_ && !writing_) {
    return teardown();
  }
  start_close(code);
}

void Session::on_ping(std::string_view payload) {
  if (closing_) {
    return;
  }
  ws::append_control(control_out_, ws::Opcode::kPong, payload);
  do_write();
}

void Session::on_close(std::uint16_t code, std::string_view /*reason*/) {
  peer_closed_ = true;
  if (close_sent_) {
    if (!writing_) {
      teardown();  // Our close went first; the handshake is complete.
    }
    return;
  }
  start_close(code != 0 ? code : ws::kCloseNormal);  // Echo the peer's code.
}

void Session::on_message(std::string_view payload, bool text) {
  if (closing_) {
    return;
  }
  std::uint32_t retry_after_ms = 0;
  const auto verdict = limiter_.on_message(std::chrono::steady_clock::now(), retry_after_ms);
  if (verdict == RateLimiter::Verdict::kClose) {
    log::net()->warn("rejected conn={} peer={} reason=rate_limit", conn_id_, slot_.ip());
    return start_close(codec::close_code::kRateLimited);
  }
  if (text != (encoding_ == codec::Encoding::kJson)) {
    // Text on huddle.v1+proto, or binary on huddle.v1+json.
    if (ctx_.metrics != nullptr) {
      ctx_.metrics->reject(metrics::Rejected::kWrongMessageType);
    }
    return start_close(codec::close_code::kUnsupportedData);
  }
  auto frame = codec::decode_client_frame(payload, encoding_);
  if (!frame) {
    if (ctx_.metrics != nullptr) {
      ctx_.metrics->reject(metrics::Rejected::kMalformed);
    }
    current_command_ = 0;
    reply_error(0, frame.error());
    if (++malformed_in_a_row_ >= ctx_.options.max_malformed_in_a_row) {
      start_close(codec::close_code::kInvalidPayload);
    }
    return;
  }
  malformed_in_a_row_ = 0;
  current_command_ = static_cast<int>(frame->command_case());
  if (verdict == RateLimiter::Verdict::kLimited) {
    if (ctx_.metrics != nullptr) {
      ctx_.metrics->reject(metrics::Rejected::kRateLimited);
    }
    auto out = codec::make_error_reply(frame->request_id(), Errc::kRateLimited);
    out.mutable_reply()->mutable_error()->set_retry_after_ms(retry_after_ms);
    send(out);
  } else if (auto bad = codec::validate_client_frame(*frame, ctx_.options.codec)) {
    reply_error(frame->request_id(), bad);
  } else {
    dispatch(std::move(*frame));
  }
}

room::MemberHandle Session::handle() const {
  room::MemberHandle h;
  h.conn_id = conn_id_;
  h.member = member_;
  h.shard = shard_;
  h.outbox = outbox_;
  h.encoding = encoding_;
  return h;
}

void Session::refuse_auth(std::uint64_t request_id, std::string_view reason, bool close) {
  log::net()->warn("rejected conn={} peer={} reason=auth detail={}", conn_id_, slot_.ip(), reason);
  if (ctx_.metrics != nullptr) {
    ctx_.metrics->reject(metrics::Rejected::kAuth);
  }
  reply_error(request_id, Errc::kUnauthenticated);
  if (close) {
    // After the reply is written (a plain close would drop it from the outbox).
    close_after_flush_ = codec::close_code::kAuthFailed;
  }
}

void Session::hello(std::uint64_t request_id, const v1::Hello& hello) {
  if (hello_done_) {
    return reply_error(request_id, Errc::kAlreadyAuthenticated);
  }
  const auto& auth = ctx_.options.auth;
  if (hello.display_name().size() > 64 ||
      (!hello.member_id().empty() && !is_valid_member_id(hello.member_id()))) {
    return reply_error(request_id, Errc::kInvalidArgument);
  }
  if (auth.mode == AuthOptions::Mode::kJwt) {
    if (hello.token().empty()) {
      return refuse_auth(request_id, "no_token", true);
    }
    auto verified =
        auth::verify_member_token(*auth.jwt_key, auth.jwt_policy, hello.token(), unix_now_s());
    if (!verified.identity) {
      return refuse_auth(request_id, auth::to_string(verified.error), true);
    }
    if (!hello.member_id().empty() && hello.member_id() != verified.identity->member_id) {
      return refuse_auth(request_id, "member_id_not_sub", true);
    }
    member_.set_member_id(verified.identity->member_id);
    member_.set_display_name(hello.display_name().empty() ? verified.identity->display_name
                                                          : hello.display_name());
    token_expires_s_ = verified.identity->expires_unix_s;
    grants_ = std::move(verified.identity->rooms);
  } else {
    if (hello.display_name().empty()) {
      return reply_error(request_id, Errc::kInvalidArgument);
    }
    member_.set_display_name(hello.display_name());
    member_.set_member_id(hello.member_id().empty() ? generate_guest_id() : hello.member_id());
  }
  hello_done_ = true;
  if (token_expires_s_ != 0) {
    const auto expires =
        std::chrono::system_clock::time_point(std::chrono::seconds(token_expires_s_));
    arm_auth_timer(expires - auth.refresh_ahead, /*warn=*/true);
  } else if (auth_timer_) {
    ++auth_timer_gen_;
    auth_timer_.reset();  // Nothing expires: an idle connection keeps no timer.
  }
  send_hello_result(request_id);
}

// The answer to hello and refreshToken: who this connection is, and until when.
void Session::send_hello_result(std::uint64_t request_id) {
  v1::ServerFrame out;
  out.mutable_reply()->set_request_id(request_id);
  auto* result = out.mutable_reply()->mutable_hello();
  *result->mutable_member() = member_;
  result->set_server_version(ctx_.server_version);
  result->set_epoch(ctx_.epoch);
  result->set_expires_unix_ms(token_expires_s_ * 1000);
  send(out);
}

void Session::refresh(std::uint64_t request_id, const v1::RefreshToken& refresh) {
  const auto& auth = ctx_.options.auth;
  if (auth.mode != AuthOptions::Mode::kJwt) {
    return reply_error(request_id, Errc::kInvalidArgument);  // Open auth: nothing expires.
  }
  auto verified =
      auth::verify_member_token(*auth.jwt_key, auth.jwt_policy, refresh.token(), unix_now_s());
  if (!verified.identity) {
    // The old token stays in force until it expires.
    return refuse_auth(request_id, auth::to_string(verified.error), false);
  }
  if (verified.identity->member_id != member_.member_id()) {
    log::net()->warn("rejected conn={} peer={} reason=auth detail=refresh_other_sub", conn_id_,
                     slot_.ip());
    return reply_error(request_id, Errc::kPermissionDenied);
  }
  token_expires_s_ = verified.identity->expires_unix_s;
  grants_ = std::move(verified.identity->rooms);
  arm_auth_timer(std::chrono::system_clock::time_point(std::chrono::seconds(token_expires_s_)) -
                     auth.refresh_ahead,
                 /*warn=*/true);
  send_hello_result(request_id);
}

// Before hello: at `at` the auth deadline passes (close 4002). After a JWT hello: at `at` (the
// refresh point) AuthExpiring is sent, and at expiry plus the leeway the connection closes 4001.
void Session::arm_auth_timer(std::chrono::system_clock::time_point at, bool warn) {
  if (!auth_timer_) {
    auth_timer_ = std::make_unique<boost::asio::steady_timer>(ctx_.shards->executor(shard_));
  }
  const auto gen = ++auth_timer_gen_;
  const auto delay =
      std::max(at - std::chrono::system_clock::now(), std::chrono::system_clock::duration::zero());
  auth_timer_->expires_after(delay);
  auth_timer_->async_wait([weak = weak_from_this(), gen, warn](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->finished_ || gen != self->auth_timer_gen_) {
      return;
    }
    if (!self->hello_done_) {
      log::net()->warn("rejected conn={} peer={} reason=auth_timeout", self->conn_id_,
                       self->slot_.ip());
      if (self->ctx_.metrics != nullptr) {
        self->ctx_.metrics->reject(metrics::Rejected::kAuth);
      }
      return self->start_close(codec::close_code::kAuthTimeout);
    }
    const auto expires =
        std::chrono::system_clock::time_point(std::chrono::seconds(self->token_expires_s_));
    if (warn) {
      v1::ServerFrame out;
      out.mutable_auth_expiring()->set_expires_unix_ms(self->token_expires_s_ * 1000);
      self->current_command_ = 0;
      self->send(out);
      return self->arm_auth_timer(
          expires + std::chrono::seconds(self->ctx_.options.auth.jwt_policy.leeway_s), false);
    }
    log::net()->info("closed conn={} peer={} reason=token_expired", self->conn_id_,
                     self->slot_.ip());
    self->start_close(codec::close_code::kAuthFailed);
  });
}

std::optional<v1::Role> Session::join_grant(const v1::Join& join) {
  if (!join.invite().empty()) {
    auth::TokenError why{};
    auto role = ctx_.options.auth.invite_key.empty()
                    ? std::nullopt
                    : auth::verify_invite(ctx_.options.auth.invite_key, join.invite(),
                                          join.room_id(), unix_now_s(), &why);
    if (!role) {
      log::net()->warn("rejected conn={} peer={} reason=invite detail={}", conn_id_, slot_.ip(),
                       auth::to_string(why));
      return std::nullopt;
    }
    return role;
  }
  const auto grant = grants_.find(join.room_id());
  return grant == grants_.end() ? v1::ROLE_UNSPECIFIED : grant->second;
}

void Session::dispatch(v1::ClientFrame frame) {
  const auto request_id = frame.request_id();
  if (frame.has_hello()) {
    return hello(request_id, frame.hello());
  }
  if (!hello_done_) {
    return reply_error(request_id, Errc::kUnauthenticated);
  }
  if (frame.has_refresh_token()) {
    return refresh(request_id, frame.refresh_token());
  }
  if (frame.has_list_rooms()) {
    v1::ServerFrame out;
    out.mutable_reply()->set_request_id(request_id);
    auto* list = out.mutable_reply()->mutable_rooms();
    for (auto& info : ctx_.rooms->list()) {
      // A private room is listed only to its creator and to grant holders.
      if (info.private_room() && info.created_by().member_id() != member_.member_id() &&
          !grants_.contains(info.room_id())) {
        continue;
      }
      *list->add_rooms() = std::move(info);
    }
    return send(out);
  }
  if (frame.has_create_room()) {
    if (auto ec = ctx_.rooms->create(handle(), std::move(frame))) {
      reply_error(request_id, ec);
    }
    return;
  }
  const std::string* room_id = room_of(frame);
  if (room_id == nullptr) {
    return reply_error(request_id, Errc::kInvalidArgument);
  }
  auto joined = rooms_.find(*room_id);
  if (frame.has_join()) {
    if (joined == rooms_.end() && rooms_.size() >= ctx_.options.max_rooms_per_connection) {
      return reply_error(request_id, Errc::kInvalidArgument);
    }
    const auto grant = join_grant(frame.join());
    if (!grant) {
      return reply_error(request_id, Errc::kPermissionDenied);  // A bad or expired invite.
    }
    auto room = joined != rooms_.end() ? joined->second : ctx_.rooms->find(RoomId{*room_id});
    if (!room) {
      return reply_error(request_id, Errc::kRoomNotFound);
    }
    // Registered now so that commands sent behind the join reach the room in order; if the
    // room refuses the join, it answers NOT_JOINED to them.
    rooms_[*room_id] = room;
    auto h = handle();
    h.grant = *grant;
    return room->submit(std::move(h), std::move(frame));
  }
  if (joined == rooms_.end()) {
    return reply_error(request_id, Errc::kNotJoined);
  }
  auto room = joined->second;
  if (frame.has_leave()) {
    rooms_.erase(joined);
  }
  room->submit(handle(), std::move(frame));
}

void Session::reply_error(std::uint64_t request_id, const boost::system::error_code& ec) {
  send(codec::make_error_reply(request_id, ec));
}

void Session::send(const v1::ServerFrame& frame) {
  if (ctx_.metrics != nullptr && current_command_ != 0 && frame.has_reply()) {
    ctx_.metrics->command(current_command_, static_cast<int>(frame.reply().error().code()));
  }
  outbox_->push(fanout::make_frame_payload(frame, encoding_));
}

// ---- Writing ----

void Session::on_outbox_ready(bool at_once) {
  if (finished_) {
    return;
  }
  if (writing_) {
    if (outbox_->overflowed() && !closing_) {
      close_slow_consumer();  // Now, not when the stuck write completes (it may never).
    }
    return;  // The write in flight picks everything up when it completes.
  }
  if (at_once) {
    // A join's reply: written once the handler that pushed it is done (so the snapshot that
    // follows it goes in the same message), ahead of the shard's corked flush.
    boost::asio::post(ctx_.shards->executor(shard_),
                      [self = shared_from_this()] { self->do_write(); });
    return;
  }
  ctx_.writers[shard_]->schedule(shared_from_this());
}

void WriteScheduler::schedule(std::shared_ptr<Session> session) {
  dirty_.push_back(std::move(session));
  if (scheduled_) {
    return;
  }
  scheduled_ = true;
  const auto now = std::chrono::steady_clock::now();
  // The cork shrinks by the time the shard went without a flush: after a burst, a lone reply on a
  // quiet shard is not held back by the cork the burst grew (it shrank only per flush before, so
  // a resume 7 ms after a busy spell still waited 3.5 ms). Back-to-back flushes keep it.
  const auto quiet = std::chrono::duration_cast<std::chrono::microseconds>(now - last_flush_);
  cork_now_ = std::max(cork_, cork_now_ - std::min(cork_now_, quiet));
  // The gap after a flush is at least the current cork and at least as long as the flush took:
  // under load the shard spends at most about half its time writing, the rest reading commands.
  due_ = last_flush_ + std::max<std::chrono::steady_clock::duration>(cork_now_, last_flush_cost_);
  if (now >= due_) {
    boost::asio::post(executor_, [this] { flush(); });
    return;
  }
  timer_.expires_at(due_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      flush();
    }
  });
}

void WriteScheduler::flush() {
  scheduled_ = false;
  const auto start = std::chrono::steady_clock::now();
  // Saturated: the flush ran late (other work kept the shard busy past its due time). Then the
  // cork doubles (up to cork_max), so each write carries more events and costs less per event;
  // otherwise it shrinks back towards the minimum, and latency with it.
  const bool saturated = start - due_ > cork_now_ / 2;
  cork_now_ = saturated ? std::min(cork_max_, cork_now_ * 2) : std::max(cork_, cork_now_ * 3 / 4);
  spare_.swap(dirty_);
  for (auto& s : spare_) {
    s->do_write();
  }
  spare_.clear();
  last_flush_ = std::chrono::steady_clock::now();
  last_flush_cost_ = last_flush_ - start;
}

void Session::do_write() {
  // A write that the kernel takes at once completes here, with no handler: the fan-out's writes
  // cost one sendmsg each and no post. Only what the socket does not take goes async.
  while (!writing_ && !finished_ && !tearing_down_ && accepted_) {
    WriteBuffers buffers{};
    if (!next_write(buffers)) {
      return;
    }
    writing_ = true;
    if (!write(buffers)) {
      return;  // In flight (or failed): on_write goes on.
    }
    writing_ = false;
    if (!after_write()) {
      return;
    }
  }
}

bool Session::next_write(WriteBuffers& out) {
  if (!control_out_.empty()) {
    control_writing_.clear();
    control_writing_.swap(control_out_);
    out[0] = boost::asio::buffer(control_writing_);
    return true;
  }
  if (!closing_ && outbox_->overflowed()) {
    close_slow_consumer();
  }
  if (!closing_) {
    if (outbox_->take_message(write_msg_)) {
      const auto parts = write_msg_.parts();
      const auto size = parts[0].size() + parts[1].size() + parts[2].size();
      const auto op = encoding_ == codec::Encoding::kJson ? ws::Opcode::kText : ws::Opcode::kBinary;
      out = {boost::asio::buffer(header_.data(), ws::encode_header(op, size, header_)),
             boost::asio::buffer(parts[0]), boost::asio::buffer(parts[1]),
             boost::asio::buffer(parts[2])};
      return true;
    }
    write_msg_.release();  // Idle: no write buffer until there is something to send.
    std::string().swap(control_writing_);
    if (close_after_flush_ == 0) {
      return false;
    }
    begin_close(std::exchange(close_after_flush_, 0));
  }
  if (close_sent_) {
    return false;
  }
  close_sent_ = true;
  control_writing_.clear();
  ws::append_close(control_writing_, close_code_);
  out[0] = boost::asio::buffer(control_writing_);
  return true;
}

bool Session::write(const WriteBuffers& buffers) {
  if (auto* socket = std::get_if<boost::asio::ip::tcp::socket>(&io_)) {
    beast::error_code ec;
    const auto n = socket->write_some(buffers, ec);  // Non-blocking: what the kernel takes now.
    if (!ec && n == boost::asio::buffer_size(buffers)) {
      return true;
    }
    if (ec && ec != boost::asio::error::would_block) {
      on_write(ec, 0);
      return false;
    }
    // The rest when the socket can take it.
    WriteBuffers rest = buffers;
    auto skip = ec ? 0 : n;
    for (auto& b : rest) {
      const auto k = std::min(skip, b.size());
      b += k;
      skip -= k;
    }
    boost::asio::async_write(*socket, rest,
                             beast::bind_front_handler(&Session::on_write, shared_from_this()));
    return false;
  }
  boost::asio::async_write(std::get<TlsStream>(io_), buffers,
                           beast::bind_front_handler(&Session::on_write, shared_from_this()));
  return false;
}

void Session::on_write(beast::error_code ec, std::size_t /*bytes*/) {
  writing_ = false;
  if (ec) {
    if (!is_benign(ec)) {
      log::net()->debug("write failed conn={} err={}", conn_id_, ec.message());
    }
    return finish();
  }
  if (after_write()) {
    do_write();
  }
}

bool Session::after_write() {
  if (!close_sent_) {
    return true;
  }
  // Our close frame is out: the handshake is complete once the peer's close came (or after a
  // protocol error, which waits for none); otherwise reads go on until it comes.
  if (peer_closed_ || failed_) {
    teardown();
  }
  return false;
}

// ---- Closing ----

void Session::close_slow_consumer() {
  log::net()->warn("slow consumer closed conn={} bound_bytes={}", conn_id_,
                   ctx_.options.outbox.max_bytes);
  if (ctx_.metrics != nullptr) {
    ctx_.metrics->slow_consumer_closes.add();
  }
  begin_close(codec::close_code::kSlowConsumer);
}

void Session::start_close(std::uint16_t code) {
  begin_close(code);
  // The close frame goes after the write in flight (one write at a time), and once the upgrade
  // is done (Beast allows no close beside it): on_accept writes it then.
  do_write();
}

void Session::begin_close(std::uint16_t code) {
  if (closing_ || finished_) {
    return;
  }
  closing_ = true;
  close_code_ = code;
  close_by_ = std::chrono::steady_clock::now() + ctx_.options.handshake_timeout;
  outbox_->close();
  control_out_.clear();  // No pong goes out after the close frame is decided.
}

void Session::teardown() {
  if (tearing_down_ || finished_) {
    return;
  }
  tearing_down_ = true;
  beast::error_code ignored;
  if (auto* socket = std::get_if<boost::asio::ip::tcp::socket>(&io_)) {
    // Half-close: the peer sees EOF after our close frame; reads go on until its EOF (or the
    // Keepalive's deadline), so no unread byte turns our FIN into an RST.
    socket->shutdown(boost::asio::socket_base::shutdown_send, ignored);
  } else if (auto* tls = std::get_if<TlsStream>(&io_)) {
    beast::get_lowest_layer(*tls).socket().shutdown(boost::asio::socket_base::shutdown_send,
                                                    ignored);
  }
}

void Session::on_tick(std::chrono::steady_clock::time_point now) {
  if (finished_) {
    return;
  }
  if (closing_ || tearing_down_) {
    if (now >= close_by_) {
      drop("close_timeout");
    }
    return;
  }
  const auto quiet = now - last_rx_;
  if (quiet >= ctx_.options.idle_timeout) {
    return drop("idle_timeout");
  }
  if (quiet >= ctx_.options.idle_timeout / 2 && !ping_sent_) {
    ping_sent_ = true;
    ws::append_control(control_out_, ws::Opcode::kPing, {});
    do_write();
  }
}

void Session::drop(std::string_view why) {
  log::net()->debug("dropped conn={} reason={}", conn_id_, why);
  finish();
}

void Session::finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  outbox_->close();
  if (auth_timer_) {
    ++auth_timer_gen_;
    auth_timer_->cancel();
  }
  // Closing the socket ends the pending wait, read or write; their handlers release the session.
  beast::error_code ignored;
  if (auto* socket = std::get_if<boost::asio::ip::tcp::socket>(&io_)) {
    socket->close(ignored);
  } else if (auto* tls = std::get_if<TlsStream>(&io_)) {
    beast::get_lowest_layer(*tls).socket().close(ignored);
  }
  for (auto& [id, room] : rooms_) {
    room->disconnect(conn_id_);
  }
  rooms_.clear();
  std::lock_guard lock(ctx_.sessions_mu);
  ctx_.sessions.erase(conn_id_);
}

// ---- Keepalive ----

void Keepalive::add(std::weak_ptr<Session> session) {
  sessions_.push_back(std::move(session));
  if (!armed_) {
    arm();
  }
}

void Keepalive::arm() {
  armed_ = true;
  timer_.expires_after(period_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      sweep();
    }
  });
}

void Keepalive::sweep() {
  armed_ = false;
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sessions_.size();) {
    auto session = sessions_[i].lock();
    if (!session || session->finished_) {
      sessions_[i] = std::move(sessions_.back());
      sessions_.pop_back();
      continue;
    }
    session->on_tick(now);
    ++i;
  }
  if (sessions_.empty()) {
    std::vector<std::weak_ptr<Session>>().swap(sessions_);  // The timer stops until the next.
    return;
  }
  arm();
}

}  // namespace huddle::net
