#include "server/net/session.hpp"

#include <array>
#include <random>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/ssl.hpp>
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

WsVariant make_ws(AnyStream&& stream) {
  return std::visit(
      [](auto&& s) -> WsVariant {
        using S = std::decay_t<decltype(s)>;
        return WsVariant(std::in_place_type<websocket::stream<S>>, std::move(s));
      },
      std::move(stream));
}

std::int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_benign(const beast::error_code& ec) {
  return ec == websocket::error::closed || ec == boost::asio::error::operation_aborted ||
         ec == boost::asio::error::eof || ec == beast::error::timeout ||
         ec == boost::asio::error::connection_reset;
}

}  // namespace

Session::Session(AnyStream&& stream, NetContext& ctx, std::size_t shard, codec::Encoding encoding,
                 PeerSlot slot)
    : ws_(make_ws(std::move(stream))),
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
  outbox_->set_wakeup([weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->on_outbox_ready();
    }
  });
  with_ws([&](auto& ws) {
    beast::get_lowest_layer(ws).expires_never();  // The websocket's own timeouts take over.
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = ctx_.options.handshake_timeout;
    timeouts.idle_timeout = ctx_.options.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    ws.read_message_max(ctx_.options.max_message_bytes);
    ws.auto_fragment(false);
    const bool json = encoding_ == codec::Encoding::kJson;
    ws.text(json);
    const std::string_view subprotocol = json ? codec::kJsonSubprotocol : codec::kProtoSubprotocol;
    ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
      res.set(http::field::server, "huddle");
      res.set(http::field::sec_websocket_protocol, subprotocol);
    }));
    ws.async_accept(req, beast::bind_front_handler(&Session::on_accept, shared_from_this()));
  });
}

void Session::on_accept(beast::error_code ec) {
  if (ec) {
    log::net()->debug("upgrade failed conn={} err={}", conn_id_, ec.message());
    return finish();
  }
  log::net()->debug("connected conn={} shard={} peer={}", conn_id_, shard_, slot_.ip());
  accepted_ = true;
  if (ctx_.options.auth.auth_timeout.count() > 0) {
    arm_auth_timer(std::chrono::system_clock::now() + ctx_.options.auth.auth_timeout, false);
  }
  if (closing_) {
    // A close was requested during the upgrade (server shutdown): send it now.
    closing_ = false;
    return start_close(close_code_ != 0 ? std::exchange(close_code_, 0)
                                        : codec::close_code::kGoingAway);
  }
  do_read();
}

void Session::close_from_anywhere(std::uint16_t code) {
  boost::asio::post(with_ws([](auto& ws) { return ws.get_executor(); }),
                    [self = shared_from_this(), code] { self->start_close(code); });
}

// ---- Reading ----

void Session::do_read() {
  with_ws([this](auto& ws) {
    ws.async_read(read_buf_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  });
}

void Session::on_read(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) {
    if (ec == websocket::error::message_too_big && ctx_.metrics != nullptr) {
      ctx_.metrics->reject(metrics::Rejected::kTooBig);
    }
    if (!is_benign(ec)) {
      // message_too_big: Beast has already sent close 1009.
      log::net()->debug("read failed conn={} err={}", conn_id_, ec.message());
    }
    return finish();
  }
  if (closing_) {
    read_buf_.consume(read_buf_.size());
    return do_read();
  }
  std::uint32_t retry_after_ms = 0;
  const auto verdict = limiter_.on_message(std::chrono::steady_clock::now(), retry_after_ms);
  if (verdict == RateLimiter::Verdict::kClose) {
    read_buf_.consume(read_buf_.size());
    log::net()->warn("rejected conn={} peer={} reason=rate_limit", conn_id_, slot_.ip());
    start_close(codec::close_code::kRateLimited);
    return do_read();
  }
  if (with_ws([](auto& ws) { return ws.got_text(); }) != (encoding_ == codec::Encoding::kJson)) {
    // Text on huddle.v1+proto, or binary on huddle.v1+json.
    if (ctx_.metrics != nullptr) {
      ctx_.metrics->reject(metrics::Rejected::kWrongMessageType);
    }
    read_buf_.consume(read_buf_.size());
    start_close(codec::close_code::kUnsupportedData);
    return do_read();
  }
  const auto data = read_buf_.cdata();
  auto frame = codec::decode_client_frame(
      std::string_view(static_cast<const char*>(data.data()), data.size()), encoding_);
  read_buf_.consume(read_buf_.size());
  if (read_buf_.capacity() > 16 * 1024) {
    read_buf_.shrink_to_fit();  // Idle connections keep no big buffers.
  }
  if (!frame) {
    if (ctx_.metrics != nullptr) {
      ctx_.metrics->reject(metrics::Rejected::kMalformed);
    }
    current_command_ = 0;
    reply_error(0, frame.error());
    if (++malformed_in_a_row_ >= ctx_.options.max_malformed_in_a_row) {
      start_close(codec::close_code::kInvalidPayload);
    }
    return do_read();
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
  do_read();
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
    auth_timer_ = std::make_unique<boost::asio::steady_timer>(
        with_ws([](auto& ws) { return ws.get_executor(); }));
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

void Session::on_outbox_ready() {
  if (finished_) {
    return;
  }
  if (writing_) {
    if (outbox_->overflowed() && !closing_) {
      close_slow_consumer();  // Now, not when the stuck write completes (it may never).
    }
    return;  // The write in flight picks everything up when it completes.
  }
  ctx_.writers[shard_]->schedule(shared_from_this());
}

void WriteScheduler::schedule(std::shared_ptr<Session> session) {
  dirty_.push_back(std::move(session));
  if (scheduled_) {
    return;
  }
  scheduled_ = true;
  // The gap after a flush is at least the current cork and at least as long as the flush took:
  // under load the shard spends at most about half its time writing, the rest reading commands.
  due_ = last_flush_ + std::max<std::chrono::steady_clock::duration>(cork_now_, last_flush_cost_);
  if (std::chrono::steady_clock::now() >= due_) {
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
  if (writing_ || finished_) {
    return;
  }
  if (outbox_->overflowed() && !closing_) {
    return close_slow_consumer();
  }
  if (closing_) {
    return;
  }
  if (!outbox_->take_message(write_msg_)) {
    write_msg_.release();  // Idle: no write buffer until there is something to send.
    if (close_after_flush_ != 0) {
      start_close(std::exchange(close_after_flush_, 0));
    }
    return;
  }
  writing_ = true;
  const auto parts = write_msg_.parts();
  const std::array<boost::asio::const_buffer, 3> buffers{
      boost::asio::buffer(parts[0]), boost::asio::buffer(parts[1]), boost::asio::buffer(parts[2])};
  with_ws([&](auto& ws) {
    ws.async_write(buffers, beast::bind_front_handler(&Session::on_write, shared_from_this()));
  });
}

void Session::on_write(beast::error_code ec, std::size_t /*bytes*/) {
  writing_ = false;
  if (ec) {
    if (!is_benign(ec)) {
      log::net()->debug("write failed conn={} err={}", conn_id_, ec.message());
    }
    return finish();
  }
  if (close_code_ != 0) {
    const auto code = std::exchange(close_code_, 0);
    with_ws([this, code](auto& ws) {
      ws.async_close(websocket::close_reason(code),
                     beast::bind_front_handler(&Session::on_close, shared_from_this()));
    });
    return;
  }
  do_write();
}

// ---- Closing ----

void Session::close_slow_consumer() {
  log::net()->warn("slow consumer closed conn={} bound_bytes={}", conn_id_,
                   ctx_.options.outbox.max_bytes);
  if (ctx_.metrics != nullptr) {
    ctx_.metrics->slow_consumer_closes.add();
  }
  start_close(codec::close_code::kSlowConsumer);
  if (!writing_) {
    return;  // The close frame is on its way (bounded by Beast's close timeout).
  }
  slow_close_timer_ = std::make_unique<boost::asio::steady_timer>(
      with_ws([](auto& ws) { return ws.get_executor(); }));
  slow_close_timer_->expires_after(ctx_.options.handshake_timeout);
  slow_close_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->finished_ || !self->writing_) {
      return;
    }
    log::net()->debug("slow consumer dropped conn={}", self->conn_id_);
    beast::error_code ignored;
    // Cancels the stuck write: on_write sees the error and finishes the session.
    self->with_ws([&](auto& ws) { beast::get_lowest_layer(ws).socket().close(ignored); });
  });
}

void Session::start_close(std::uint16_t code) {
  if (closing_ || finished_) {
    return;
  }
  closing_ = true;
  outbox_->close();
  if (!accepted_) {
    // The upgrade is still in flight (Beast allows no close beside it): close once it is done.
    close_code_ = code;
    return;
  }
  if (writing_) {
    close_code_ = code;  // After the write in flight (one write at a time).
    return;
  }
  with_ws([this, code](auto& ws) {
    ws.async_close(websocket::close_reason(code),
                   beast::bind_front_handler(&Session::on_close, shared_from_this()));
  });
}

void Session::on_close(beast::error_code ec) {
  if (ec && !is_benign(ec)) {
    log::net()->debug("close failed conn={} err={}", conn_id_, ec.message());
  }
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
  for (auto& [id, room] : rooms_) {
    room->disconnect(conn_id_);
  }
  rooms_.clear();
  std::lock_guard lock(ctx_.sessions_mu);
  ctx_.sessions.erase(conn_id_);
}

}  // namespace huddle::net
