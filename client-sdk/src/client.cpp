#include "huddle/client.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "core/board/rules.hpp"

namespace huddle {

namespace v1 = huddle::v1;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* kSubprotocol = "huddle.v1+proto";
constexpr std::uint32_t kHistoryPage = 200;

struct Url {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string path = "/ws";
};

Url parse_url(const std::string& url) {
  Url out;
  auto rest = url;
  if (auto p = rest.find("://"); p != std::string::npos) {
    rest = rest.substr(p + 3);
  }
  const auto slash = rest.find('/');
  const auto hostport = rest.substr(0, slash);
  if (slash != std::string::npos) {
    out.path = rest.substr(slash);
  }
  const auto colon = hostport.rfind(':');
  out.host = hostport.substr(0, colon);
  if (colon != std::string::npos) {
    out.port = hostport.substr(colon + 1);
  }
  return out;
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
        member_id(opts.member_id) {
    std::random_device rd;
    rng.seed(rd());
    op_prefix = "sdk-" + std::to_string(rng()) + "-";
  }

  asio::strand<asio::any_io_executor> strand;
  const ClientOptions opts;
  const Url url;
  tcp::resolver resolver;
  asio::steady_timer reconnect_timer;
  asio::steady_timer tick_timer;
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  std::deque<std::string> writes;
  bool writing = false;
  std::uint64_t generation = 0;  // Bumped per connection; stale handlers compare it.
  bool stopped = true;
  bool up = false;  // Hello answered on the current connection.
  std::chrono::milliseconds backoff{0};
  std::mt19937_64 rng;
  std::string op_prefix;
  std::uint64_t next_op = 1;
  std::uint64_t next_request = 1;

  std::map<std::string, Room> rooms;
  std::map<std::uint64_t, Pending> pending;  // Application commands, in issue order.
  std::map<std::uint64_t, std::function<void(const v1::Reply&)>> internal;  // This connection.

  mutable std::mutex mu;  // Guards the copies read from other threads.
  std::string member_id;
  bool connected_copy = false;
  std::vector<std::string> errors;

  void error(std::string what) {
    std::lock_guard lock(mu);
    errors.push_back(std::move(what));
  }

  // ---- Connection ----

  void connect() {
    if (stopped) {
      return;
    }
    const auto gen = ++generation;
    ws.emplace(strand);
    ws->read_message_max(opts.max_message_bytes);
    ws->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::sec_websocket_protocol, kSubprotocol);
    }));
    resolver.async_resolve(
        url.host, url.port,
        [self = shared_from_this(), gen](beast::error_code ec,
                                         tcp::resolver::results_type results) {
          if (gen != self->generation) {
            return;
          }
          if (ec) {
            return self->disconnected(gen, "resolve: " + ec.message());
          }
          beast::get_lowest_layer(*self->ws).expires_after(std::chrono::seconds(10));
          beast::get_lowest_layer(*self->ws).async_connect(
              results, [self, gen](beast::error_code ec2, const tcp::endpoint&) {
                if (gen != self->generation) {
                  return;
                }
                if (ec2) {
                  return self->disconnected(gen, "connect: " + ec2.message());
                }
                self->ws->async_handshake(self->url.host + ":" + self->url.port, self->url.path,
                                          [self, gen](beast::error_code ec3) {
                                            if (gen != self->generation) {
                                              return;
                                            }
                                            if (ec3) {
                                              return self->disconnected(
                                                  gen, "handshake: " + ec3.message());
                                            }
                                            beast::get_lowest_layer(*self->ws).expires_never();
                                            self->on_open(gen);
                                          });
              });
        });
  }

  void on_open(std::uint64_t gen) {
    read(gen);
    v1::ClientFrame hello;
    hello.mutable_hello()->set_display_name(opts.display_name);
    {
      std::lock_guard lock(mu);
      hello.mutable_hello()->set_member_id(member_id);
    }
    request(std::move(hello), [self = shared_from_this(), gen](const v1::Reply& r) {
      if (gen != self->generation) {
        return;
      }
      if (r.has_error()) {
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
      for (auto& [id, p] : self->pending) {
        self->write_command(id, p);
      }
    });
  }

  void disconnected(std::uint64_t gen, const std::string& why) {
    if (gen != generation) {
      return;
    }
    ++generation;  // Every handler of the old connection is now stale.
    if (ws) {
      beast::error_code ignored;
      beast::get_lowest_layer(*ws).socket().close(ignored);
    }
    up = false;
    {
      std::lock_guard lock(mu);
      connected_copy = false;
    }
    writes.clear();
    writing = false;
    internal.clear();
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
    reconnect_timer.expires_after(std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(backoff.count()) * jitter(rng))));
    reconnect_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) {
        self->connect();
      }
    });
  }

  void close(std::uint64_t gen) { disconnected(gen, "closed by the client"); }

  void read(std::uint64_t gen) {
    ws->async_read(buffer, [self = shared_from_this(), gen](beast::error_code ec, std::size_t) {
      if (gen != self->generation) {
        return;
      }
      if (ec) {
        if (ec != websocket::error::closed) {
          self->error("read: " + ec.message());
        }
        return self->disconnected(gen, ec.message());
      }
      v1::ServerMessage message;
      const auto data = self->buffer.cdata();
      const bool ok = !self->ws->got_text() &&
                      message.ParseFromArray(data.data(), static_cast<int>(data.size()));
      self->buffer.consume(self->buffer.size());
      if (!ok) {
        // A broken or hostile server: report, drop the connection, reconnect. Never crash.
        self->error("undecodable server message");
        return self->close(gen);
      }
      for (auto& frame : *message.mutable_frames()) {
        self->on_frame(gen, frame);
        if (gen != self->generation) {
          return;  // The frame made us drop the connection.
        }
      }
      self->read(gen);
    });
  }

  void write(std::string bytes) {
    writes.push_back(std::move(bytes));
    do_write();
  }

  void do_write() {
    if (writing || writes.empty() || !ws) {
      return;
    }
    writing = true;
    ws->binary(true);
    ws->async_write(asio::buffer(writes.front()), [self = shared_from_this(), gen = generation](
                                                      beast::error_code ec, std::size_t) {
      if (gen != self->generation) {
        return;
      }
      self->writing = false;
      if (ec) {
        return self->disconnected(gen, "write: " + ec.message());
      }
      self->writes.pop_front();
      self->do_write();
    });
  }

  // An internal request on the current connection (hello, join, history).
  void request(v1::ClientFrame frame, std::function<void(const v1::Reply&)> on_reply) {
    const auto id = next_request++;
    frame.set_request_id(id);
    internal[id] = std::move(on_reply);
    write(frame.SerializeAsString());
  }

  void write_command(std::uint64_t id, Pending& p) {
    p.frame.set_request_id(id);
    p.sent = true;
    p.sent_at = std::chrono::steady_clock::now();
    write(p.frame.SerializeAsString());
  }

  // ---- Rooms ----

  void send_join(const std::string& name, Room& room) {
    v1::ClientFrame join;
    join.mutable_join()->set_room_id(name);
    if (room.mirror.has_board()) {
      join.mutable_join()->mutable_resume()->set_epoch(room.epoch);
      join.mutable_join()->mutable_resume()->set_last_seq(room.mirror.seq());
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
              if (r.has_error()) {
                self->error("join " + name + ": " + r.error().message());
                return;
              }
              auto& joined = it->second;
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
    auto done = std::move(it->second.done);
    pending.erase(it);
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
          if (done) {
            done(client_failure(ClientError::kTimeout, "no reply in time"));
          }
        } else {
          ++it;
        }
      }
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
    impl->tick();
    impl->connect();
  });
}

void Client::stop() {
  asio::dispatch(impl_->strand, [impl = impl_] {
    if (impl->stopped) {
      return;
    }
    impl->stopped = true;
    impl->reconnect_timer.cancel();
    impl->tick_timer.cancel();
    impl->resolver.cancel();
    impl->disconnected(impl->generation, "stopped");
    auto pending = std::move(impl->pending);
    impl->pending.clear();
    for (auto& [id, p] : pending) {
      if (p.done) {
        p.done(client_failure(ClientError::kStopped, "the client stopped"));
      }
    }
  });
}

void Client::join(const std::string& room, RoomHandlers handlers) {
  asio::dispatch(impl_->strand, [impl = impl_, room, handlers = std::move(handlers)]() mutable {
    auto& r = impl->rooms[room];
    r.handlers = std::move(handlers);
    if (impl->up) {
      impl->send_join(room, r);
    }
  });
}

void Client::send(v1::ClientFrame frame, ResultHandler done) {
  asio::dispatch(impl_->strand,
                 [impl = impl_, frame = std::move(frame), done = std::move(done)]() mutable {
                   if (impl->stopped && impl->generation > 0) {
                     return done(client_failure(ClientError::kStopped, "the client stopped"));
                   }
                   if (impl->pending.size() >= impl->opts.max_queued_commands) {
                     return done(client_failure(ClientError::kQueueFull, "offline queue full"));
                   }
                   const auto room = room_of(frame);
                   if (!room.empty() && !frame.has_join() && !impl->rooms.contains(room)) {
                     return done(client_failure(ClientError::kNotJoined, "join the room first"));
                   }
                   if (frame.op_id().empty() &&
                       (board::is_board_command(frame.command_case()) || frame.has_create_room())) {
                     frame.set_op_id(impl->op_prefix + std::to_string(impl->next_op++));
                   }
                   const auto id = impl->next_request++;
                   auto& p = impl->pending[id];
                   p.frame = std::move(frame);
                   p.done = std::move(done);
                   if (impl->up) {
                     impl->write_command(id, p);
                   }
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

}  // namespace huddle
