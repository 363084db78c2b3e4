#include "server/net/session.hpp"

#include <random>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/field.hpp>
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

bool is_benign(const beast::error_code& ec) {
  return ec == websocket::error::closed || ec == boost::asio::error::operation_aborted ||
         ec == boost::asio::error::eof || ec == beast::error::timeout ||
         ec == boost::asio::error::connection_reset;
}

}  // namespace

Session::Session(beast::tcp_stream&& stream, NetContext& ctx, std::size_t shard,
                 codec::Encoding encoding)
    : ws_(std::move(stream)),
      ctx_(ctx),
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
  beast::get_lowest_layer(ws_).expires_never();  // The websocket's own timeouts take over.
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = ctx_.options.handshake_timeout;
  timeouts.idle_timeout = ctx_.options.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.read_message_max(ctx_.options.max_message_bytes);
  ws_.auto_fragment(false);
  const bool json = encoding_ == codec::Encoding::kJson;
  ws_.text(json);
  const std::string_view subprotocol = json ? codec::kJsonSubprotocol : codec::kProtoSubprotocol;
  ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
    res.set(http::field::server, "huddle");
    res.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  ws_.async_accept(req, beast::bind_front_handler(&Session::on_accept, shared_from_this()));
}

void Session::on_accept(beast::error_code ec) {
  if (ec) {
    log::net()->debug("upgrade failed conn={} err={}", conn_id_, ec.message());
    return finish();
  }
  log::net()->debug("connected conn={} shard={}", conn_id_, shard_);
  accepted_ = true;
  if (closing_) {
    // A close was requested during the upgrade (server shutdown): send it now.
    closing_ = false;
    return start_close(close_code_ != 0 ? std::exchange(close_code_, 0)
                                        : codec::close_code::kGoingAway);
  }
  do_read();
}

void Session::close_from_anywhere(std::uint16_t code) {
  boost::asio::post(ws_.get_executor(),
                    [self = shared_from_this(), code] { self->start_close(code); });
}

// ---- Reading ----

void Session::do_read() {
  ws_.async_read(read_buf_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
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
  if (ws_.got_text() != (encoding_ == codec::Encoding::kJson)) {
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
  if (auto bad = codec::validate_client_frame(*frame, ctx_.options.codec)) {
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

void Session::dispatch(v1::ClientFrame frame) {
  const auto request_id = frame.request_id();
  if (frame.has_hello()) {
    if (hello_done_) {
      return reply_error(request_id, Errc::kAlreadyAuthenticated);
    }
    const auto& hello = frame.hello();
    if (hello.display_name().empty() || hello.display_name().size() > 64 ||
        (!hello.member_id().empty() && !is_valid_member_id(hello.member_id()))) {
      return reply_error(request_id, Errc::kInvalidArgument);
    }
    member_.set_display_name(hello.display_name());
    member_.set_member_id(hello.member_id().empty() ? generate_guest_id() : hello.member_id());
    hello_done_ = true;
    v1::ServerFrame out;
    out.mutable_reply()->set_request_id(request_id);
    auto* result = out.mutable_reply()->mutable_hello();
    *result->mutable_member() = member_;
    result->set_server_version(ctx_.server_version);
    result->set_epoch(ctx_.epoch);
    return send(out);
  }
  if (!hello_done_) {
    return reply_error(request_id, Errc::kUnauthenticated);
  }
  if (frame.has_list_rooms()) {
    v1::ServerFrame out;
    out.mutable_reply()->set_request_id(request_id);
    auto* list = out.mutable_reply()->mutable_rooms();
    for (auto& info : ctx_.rooms->list()) {
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
    auto room = joined != rooms_.end() ? joined->second : ctx_.rooms->find(RoomId{*room_id});
    if (!room) {
      return reply_error(request_id, Errc::kRoomNotFound);
    }
    rooms_[*room_id] = room;
    return room->submit(handle(), std::move(frame));
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
  if (!outbox_->take_message(write_buf_)) {
    return;
  }
  writing_ = true;
  ws_.async_write(boost::asio::buffer(write_buf_),
                  beast::bind_front_handler(&Session::on_write, shared_from_this()));
}

void Session::on_write(beast::error_code ec, std::size_t /*bytes*/) {
  writing_ = false;
  if (ec) {
    if (!is_benign(ec)) {
      log::net()->debug("write failed conn={} err={}", conn_id_, ec.message());
    }
    return finish();
  }
  if (write_buf_.capacity() > 64 * 1024) {
    std::string().swap(write_buf_);  // Busy bursts do not pin memory on idle connections.
  }
  if (close_code_ != 0) {
    const auto code = std::exchange(close_code_, 0);
    ws_.async_close(websocket::close_reason(code),
                    beast::bind_front_handler(&Session::on_close, shared_from_this()));
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
  slow_close_timer_ = std::make_unique<boost::asio::steady_timer>(ws_.get_executor());
  slow_close_timer_->expires_after(ctx_.options.handshake_timeout);
  slow_close_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->finished_ || !self->writing_) {
      return;
    }
    log::net()->debug("slow consumer dropped conn={}", self->conn_id_);
    beast::error_code ignored;
    // Cancels the stuck write: on_write sees the error and finishes the session.
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
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
  ws_.async_close(websocket::close_reason(code),
                  beast::bind_front_handler(&Session::on_close, shared_from_this()));
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
  for (auto& [id, room] : rooms_) {
    room->disconnect(conn_id_);
  }
  rooms_.clear();
  std::lock_guard lock(ctx_.sessions_mu);
  ctx_.sessions.erase(conn_id_);
}

}  // namespace huddle::net
