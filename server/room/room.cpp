#include "server/room/room.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "core/board/visibility.hpp"
#include "core/common/assert.hpp"
#include "server/auth/jwt.hpp"
#include "server/codec/wire_errors.hpp"
#include "server/room/resume.hpp"
#include "server/util/log.hpp"

namespace huddle::room {

namespace net = boost::asio;
namespace v1 = huddle::v1;

namespace {

std::string dedup_key(const v1::Member& actor, const std::string& op_id) {
  if (op_id.empty()) {
    return {};
  }
  std::string key = actor.member_id();
  key.push_back('\0');
  key.append(op_id);
  return key;
}

}  // namespace

Room::Room(RoomId id, std::size_t shard, RoomContext& ctx)
    : id_(std::move(id)), shard_(shard), ctx_(ctx) {
  by_shard_.resize(ctx_.shards->size());
}

// ---- Entry points (any thread) ----

void Room::open() {
  net::post(ctx_.shards->executor(shard_), [self = shared_from_this()] {
    self->state_ = State::kLoading;
    net::post(self->ctx_.reader, [self] {
      store::LoadOptions opts{.tail_events = self->ctx_.options.tail_events,
                              .dedup_window = self->ctx_.options.dedup_window};
      auto load = self->ctx_.log->load_room(self->id_, opts);
      net::post(self->ctx_.shards->executor(self->shard_),
                [self, load = std::move(load)]() mutable { self->on_loaded(std::move(load)); });
    });
  });
}

void Room::create(MemberHandle from, v1::ClientFrame frame, CreatedCallback done) {
  net::post(ctx_.shards->executor(shard_), [self = shared_from_this(), from = std::move(from),
                                            frame = std::move(frame), done = std::move(done)] {
    auto event = board::validate_create_room(frame.create_room(), self->ctx_.options.board);
    if (!event) {
      self->state_ = State::kFailed;
      self->current_command_ = static_cast<int>(v1::ClientFrame::kCreateRoom);
      self->reply_error(from, frame.request_id(), event.error());
      self->current_command_ = 0;
      done(false, {});
      return;
    }
    self->state_ = State::kCreating;
    auto& info = *self->meta_.mutable_info();
    info.set_room_id(self->id_.value());
    info.set_title(event->room_created().title());
    info.set_created_unix_ms(self->ctx_.clock->now_unix_ms());
    *info.mutable_created_by() = from.member;
    info.set_private_room(event->room_created().options().private_room());
    event->set_time_unix_ms(info.created_unix_ms());
    self->append(std::move(*event), from,
                 Waiter{.to = from,
                        .request_id = frame.request_id(),
                        .command = static_cast<int>(v1::ClientFrame::kCreateRoom)},
                 dedup_key(from.member, frame.op_id()), std::move(done));
  });
}

void Room::submit(MemberHandle from, v1::ClientFrame frame) {
  net::post(ctx_.shards->executor(shard_), [self = shared_from_this(), from = std::move(from),
                                            frame = std::move(frame)]() mutable {
    if (self->state_ != State::kLive) {
      const auto refuse = [&](Errc why) {
        self->current_command_ = static_cast<int>(frame.command_case());
        self->reply_error(from, frame.request_id(), why);
        self->current_command_ = 0;
      };
      if (self->state_ == State::kFailed || self->state_ == State::kClosed) {
        return refuse(Errc::kRoomNotFound);
      }
      if (self->queued_.size() >= self->ctx_.options.max_queued_commands) {
        return refuse(Errc::kOverloaded);
      }
      self->queued_.push_back(Queued{std::move(from), std::move(frame), false});
      return self->note_idle_state();
    }
    self->handle(std::move(from), std::move(frame));
    self->note_idle_state();
  });
}

void Room::disconnect(std::uint64_t conn_id) {
  net::post(ctx_.shards->executor(shard_), [self = shared_from_this(), conn_id] {
    if (self->state_ == State::kLoading || self->state_ == State::kCreating) {
      // After the connection's queued commands, so a queued join cannot outlive it.
      MemberHandle gone;
      gone.conn_id = conn_id;
      self->queued_.push_back(Queued{std::move(gone), {}, true});
      return;
    }
    self->do_leave(conn_id, nullptr, 0);
    self->note_idle_state();
  });
}

void Room::when_loaded(std::function<void()> task) {
  net::post(ctx_.shards->executor(shard_),
            [self = shared_from_this(), task = std::move(task)]() mutable {
              if (self->state_ == State::kLoading || self->state_ == State::kCreating) {
                Queued q;
                q.task = std::move(task);
                self->queued_.push_back(std::move(q));
                return;
              }
              task();
            });
}

void Room::export_board(v1::ExportFormat format, ExportCallback done) {
  when_loaded([this, self = shared_from_this(), format, done = std::move(done)] {
    if (state_ != State::kLive) {
      return done(Errc::kRoomNotFound);
    }
    done(board::render_export(board::redact_snapshot(board_.snapshot(), ""), format));
  });
}

void Room::stats(StatsCallback done) {
  when_loaded([this, self = shared_from_this(), done = std::move(done)] {
    if (state_ != State::kLive) {
      return done(Errc::kRoomNotFound);
    }
    done(Stats{.board = board_.snapshot(),
               .head_seq = head_.value(),
               .connections = members_.size(),
               .members_online = online_.size()});
  });
}

void Room::archive(std::string reason, DoneCallback done) {
  when_loaded([this, self = shared_from_this(), reason = std::move(reason),
               done = std::move(done)]() mutable {
    if (state_ != State::kLive) {
      return done(Errc::kRoomNotFound);
    }
    if (next_.snapshot().archived()) {
      return done(Errc::kRoomArchived);
    }
    v1::Event event;
    event.mutable_room_archived()->set_reason(std::move(reason));
    append(std::move(event), MemberHandle{}, std::nullopt, {}, {}, std::move(done));
    note_idle_state();
  });
}

void Room::close_and_delete(std::string reason, DoneCallback done) {
  when_loaded([this, self = shared_from_this(), reason = std::move(reason),
               done = std::move(done)]() mutable {
    if (state_ == State::kClosed) {
      return done(Errc::kRoomNotFound);
    }
    state_ = State::kClosed;
    failed_.store(true);
    v1::ServerFrame closed;
    closed.mutable_room_closed()->set_room_id(id_.value());
    closed.mutable_room_closed()->set_reason(std::move(reason));
    for (const auto& [conn, member] : members_) {
      reply(member, closed);
    }
    members_.clear();
    online_.clear();
    rebuild_shard_lists();
    // Behind every append this room handed to the log: those complete (and are acked) first.
    ctx_.log->delete_room(id_, [exec = ctx_.shards->executor(shard_), self,
                                done = std::move(done)](boost::system::error_code ec) {
      net::post(exec, [self, ec, done] { done(ec); });
    });
    note_idle_state();
  });
}

// ---- Loading ----

void Room::on_loaded(Result<store::RoomLoad> load) {
  if (!load) {
    log::room()->warn("room load failed room={} err={}", id_.value(), load.error().message());
    fail_queued(load.error());
    return;
  }
  meta_ = std::move(load->meta);
  board_ = load->snapshot ? board::BoardState(load->snapshot->board()) : board::BoardState();
  for (const auto& event : load->replay) {
    auto ec = board_.apply(event);
    // The log is the truth; an event that does not apply means a corrupt store. Refuse to serve
    // a state we cannot vouch for.
    if (ec) {
      log::room()->error("room replay failed room={} seq={} err={}", id_.value(), event.seq(),
                         ec.message());
      fail_queued(Errc::kInternal);
      return;
    }
  }
  next_ = board_;
  head_ = load->head;
  last_assigned_ = head_;
  for (auto& event : load->tail) {
    tail_.push_back(make_tail_entry(std::move(event), {}));
  }
  for (const auto& cursor : load->cursors) {
    cursors_[cursor.member_id] = cursor.seq;
  }
  for (auto& entry : load->dedup) {
    remember_op(dedup_key(
                    [&] {
                      v1::Member m;
                      m.set_member_id(entry.op.member_id());
                      return m;
                    }(),
                    entry.op.op_id()),
                entry.seq);
  }
  state_ = State::kLive;
  log::room()->info("room opened room={} head={}", id_.value(), head_.value());
  run_queued();
  note_idle_state();
}

void Room::run_queued() {
  auto queued = std::move(queued_);
  queued_.clear();
  for (auto& q : queued) {
    if (q.task) {
      q.task();
    } else if (q.disconnect) {
      do_leave(q.from.conn_id, nullptr, 0);
    } else {
      handle(std::move(q.from), std::move(q.frame));
    }
  }
}

void Room::fail_queued(const boost::system::error_code& ec) {
  state_ = State::kFailed;
  failed_.store(true);  // The registry replaces a failed room on the next find().
  auto queued = std::move(queued_);
  queued_.clear();
  for (auto& q : queued) {
    if (q.task) {
      q.task();  // Sees state_ kFailed: reports the failure.
    } else if (!q.disconnect) {
      current_command_ = static_cast<int>(q.frame.command_case());
      reply_error(q.from, q.frame.request_id(), ec);
      current_command_ = 0;
    }
  }
  note_idle_state();
}

// ---- Commands ----

void Room::handle(MemberHandle from, v1::ClientFrame frame) {
  current_command_ = static_cast<int>(frame.command_case());
  struct Reset {
    int& c;
    ~Reset() { c = 0; }
  } reset{current_command_};
  switch (frame.command_case()) {
    case v1::ClientFrame::kJoin: return do_join(from, frame);
    case v1::ClientFrame::kLeave: return do_leave(from.conn_id, &from, frame.request_id());
    case v1::ClientFrame::kTyping: return do_typing(from, frame);
    case v1::ClientFrame::kMarkRead: return do_mark_read(from, frame);
    case v1::ClientFrame::kExport: return do_export(from, frame);
    case v1::ClientFrame::kGetHistory: return do_history(from, frame);
    case v1::ClientFrame::kGetIdeas: return do_get_ideas(from, frame);
    case v1::ClientFrame::kCreateInvite: return do_create_invite(from, frame);
    default:
      if (board::is_board_command(frame.command_case())) {
        return do_board_command(from, frame);
      }
      return reply_error(from, frame.request_id(), Errc::kInvalidArgument);
  }
}

void Room::do_join(const MemberHandle& from, const v1::ClientFrame& frame) {
  const auto& opts = ctx_.options;
  const auto& join = frame.join();
  if (from.outbox.expired()) {
    return;  // The connection is gone already.
  }
  const bool rejoin = is_joined(from.conn_id);
  // Access: a private room admits only its roster and members with a grant or an invite. The
  // refusal carries nothing about the room (no epoch, no head).
  if (!rejoin && board_.snapshot().options().private_room() && from.grant == v1::ROLE_UNSPECIFIED &&
      !board_.has_member(MemberId{from.member.member_id()})) {
    log::room()->warn("rejected room={} conn={} member={} reason=private_room", id_.value(),
                      from.conn_id, from.member.member_id());
    return reply_error(from, frame.request_id(), Errc::kPermissionDenied);
  }
  if (!rejoin && opts.max_members != 0 && members_.size() >= opts.max_members) {
    return reply_error(from, frame.request_id(), Errc::kLimitExceeded);
  }
  if (rejoin) {
    // Same connection joining again (to resume): replace its registration without presence
    // changes; the others never saw it leave.
    const auto& old = members_[from.conn_id];
    --encoding_count_[static_cast<std::size_t>(old.encoding)];
    --online_[old.member.member_id()].connections;
    members_.erase(from.conn_id);
  }

  // Decide EXACT / SNAPSHOT / RESET (invariant 2): server/room/resume.hpp.
  class TailView final : public ResumeTail {
   public:
    explicit TailView(const std::deque<TailEntry>& tail) : tail_(tail) {}
    std::size_t size() const override { return tail_.size(); }
    std::uint64_t prev_seq(std::size_t i) const override { return tail_[i].event.prev_seq(); }
    std::size_t byte_size(std::size_t i) const override { return tail_[i].bytes; }

   private:
    const std::deque<TailEntry>& tail_;
  };
  const ResumeRequest request{.has_resume = join.has_resume(),
                              .epoch = join.resume().epoch(),
                              .last_seq = join.resume().last_seq()};
  const auto decision = resolve_resume(
      request, ctx_.log->epoch().value(), head_.value(), TailView(tail_),
      ResumeLimits{.max_events = opts.max_resume_events, .max_bytes = opts.max_resume_bytes});
  const v1::ResumeMode mode = decision.mode;
  const std::size_t first = decision.first;  // Index in tail_ of the first event to send (EXACT).

  v1::ServerFrame out;
  out.mutable_reply()->set_request_id(frame.request_id());
  auto* result = out.mutable_reply()->mutable_join();
  *result->mutable_room() = info();
  result->set_epoch(ctx_.log->epoch().value());
  result->set_head_seq(head_.value());
  result->set_mode(mode);
  result->set_from_seq(decision.from_seq);
  if (auto c = cursors_.find(from.member.member_id()); c != cursors_.end()) {
    result->set_last_read_seq(c->second.value());
  }

  if (ctx_.metrics != nullptr) {
    ctx_.metrics->resume(static_cast<int>(mode));
    if (!rejoin) {
      ctx_.metrics->room_members.add(1);
    }
  }
  // Register before computing `online` so the joiner sees itself.
  members_[from.conn_id] = from;
  member_ix_.try_emplace(from.member.member_id(), static_cast<std::uint32_t>(member_ix_.size()));
  ++encoding_count_[static_cast<std::size_t>(from.encoding)];
  auto& online = online_[from.member.member_id()];
  const bool first_connection = online.connections++ == 0;
  if (first_connection) {
    online.member = from.member;
    online.piece = codec::encode_online_member(from.member);
  }
  if (rejoin) {
    rebuild_shard_lists();
  } else {
    add_target(from);
  }
  count_reply(out);
  auto answer = std::make_shared<fanout::Payload>();
  if (from.encoding == codec::Encoding::kProto) {
    // The online list is O(members) per join: each member's bytes were encoded when it came
    // online, and are copied in here (a join storm of 200 would copy 20,000 Members).
    std::string online_bytes;
    for (const auto& [id, o] : online_) {
      online_bytes += o.piece;
    }
    answer->bytes[static_cast<std::size_t>(codec::Encoding::kProto)] =
        codec::encode_join_reply(frame.request_id(), *result, online_bytes);
  } else {
    result->mutable_online()->Reserve(static_cast<int>(online_.size()));
    for (const auto& [id, o] : online_) {
      *result->add_online() = o.member;
    }
    answer->bytes[static_cast<std::size_t>(from.encoding)] =
        codec::encode_server_frame(out, from.encoding);
  }
  // The member can do nothing before this reply and its snapshot (or missed events): they go out
  // as soon as this join is done, not at the shard's next corked flush.
  answer->write_at_once = true;
  deliver(from, std::move(answer));

  if (mode == v1::RESUME_MODE_EXACT) {
    for (auto i = first; i < tail_.size(); ++i) {
      deliver(from, tail_payload(tail_[i], from));
    }
  } else {
    deliver(from, snapshot_payload(from, join.snapshot_ideas()));
  }

  if (first_connection && !rejoin) {
    v1::ServerFrame presence;
    presence.mutable_presence()->set_room_id(id_.value());
    *presence.mutable_presence()->add_joined() = from.member;
    broadcast(fanout::make_frame_payload(presence, encodings_in_use()), from.conn_id);
  }
  ensure_in_roster(from);
}

void Room::do_get_ideas(const MemberHandle& from, const v1::ClientFrame& frame) {
  if (!is_joined(from.conn_id)) {
    return reply_error(from, frame.request_id(), Errc::kNotJoined);
  }
  const auto& req = frame.get_ideas();
  const std::size_t limit = req.limit() == 0 ? 200 : req.limit();
  if (limit > ctx_.options.max_ideas_page) {
    return reply_error(from, frame.request_id(), Errc::kInvalidArgument);
  }
  // Pages wait for the commands already queued on this shard: in a join storm, the joins read
  // in the same batch go first, since a member is usable at its first page and pages the rest
  // in. (Replies may come in any order; the page is read when it is served, so it is as new as
  // every event queued to the member before it.)
  page_requests_.push_back(PageRequest{.to = from,
                                       .request_id = frame.request_id(),
                                       .before = req.before_idea_id(),
                                       .limit = limit});
  if (!pages_posted_) {
    pages_posted_ = true;
    net::post(ctx_.shards->executor(shard_), [self = shared_from_this()] { self->serve_pages(); });
  }
}

void Room::serve_pages() {
  pages_posted_ = false;
  const auto requests = std::exchange(page_requests_, {});
  for (const auto& r : requests) {
    if (state_ != State::kLive || !is_joined(r.to.conn_id)) {
      continue;  // The member left, or the room closed, in between.
    }
    auto p = std::make_shared<fanout::Payload>();
    if (r.to.encoding == codec::Encoding::kProto) {
      // A head of its own (the request id), and the page, shared with whoever asked for it too.
      p->proto_tail = ideas_page_body(r.to, r.before, r.limit);
      p->bytes[static_cast<std::size_t>(r.to.encoding)] =
          codec::encode_ideas_page_head(r.request_id, head_.value(), p->proto_tail->size());
    } else {
      p->bytes[static_cast<std::size_t>(r.to.encoding)] = codec::encode_server_frame(
          ideas_page_frame(r.to, r.request_id, r.before, r.limit), r.to.encoding);
    }
    if (ctx_.metrics != nullptr) {
      ctx_.metrics->command(static_cast<int>(v1::ClientFrame::kGetIdeas), 0);
    }
    deliver(r.to, std::move(p));
  }
}

Room::IdeaRange Room::ideas_range(std::uint64_t before, std::size_t limit) const {
  // The newest `limit` ideas below `before` (ideas are in ascending idea_id). The board is the
  // durable state, and every event it holds was queued to the member before this reply: the
  // page is as new as what the member has applied.
  const auto& ideas = board_.snapshot().ideas();
  const auto end = before == 0 ? ideas.end()
                               : std::lower_bound(ideas.begin(), ideas.end(), before,
                                                  [](const v1::Idea& idea, std::uint64_t id) {
                                                    return idea.idea_id() < id;
                                                  });
  // Like a history page, it must fit the member's outbox: fewer ideas when they are big.
  auto begin = end;
  std::size_t bytes = 0;
  while (begin != ideas.begin() && static_cast<std::size_t>(end - begin) < limit) {
    bytes += std::prev(begin)->ByteSizeLong();
    if (bytes > ctx_.options.max_history_bytes && begin != end) {
      break;
    }
    --begin;
  }
  return IdeaRange{.begin = begin, .end = end, .has_more = begin != ideas.begin()};
}

v1::ServerFrame Room::ideas_page_frame(const MemberHandle& viewer, std::uint64_t request_id,
                                       std::uint64_t before, std::size_t limit) const {
  const auto range = ideas_range(before, limit);
  v1::ServerFrame out;
  out.mutable_reply()->set_request_id(request_id);
  auto* page = out.mutable_reply()->mutable_ideas();
  for (auto it = range.begin; it != range.end; ++it) {
    board::redact_idea(*page->add_ideas() = *it, viewer.member.member_id(), anonymous());
  }
  page->set_has_more(range.has_more);
  page->set_seq(head_.value());
  return out;
}

std::shared_ptr<const std::string> Room::ideas_page_body(const MemberHandle& viewer,
                                                         std::uint64_t before, std::size_t limit) {
  // Pages nobody sees differently (no hidden idea, not anonymous) are encoded once while the
  // ideas stay the same (each reply's head carries its own seq): a join storm pages through the
  // same board 200 times, and each of its joins moves the head.
  const auto& board = board_.snapshot();
  const bool same_for_all = board.hidden_idea_count() == 0 && !board.options().anonymous();
  if (page_cache_seq_ != board_.ideas_seq()) {
    page_cache_.clear();
    page_cache_seq_ = board_.ideas_seq();
  }
  const auto key = std::make_pair(before, limit);
  if (same_for_all) {
    if (auto it = page_cache_.find(key); it != page_cache_.end()) {
      return it->second;
    }
  }
  // Ideas this member sees as they are are serialized in place; the others are copied and
  // redacted (hidden from this member, or any idea in an anonymous room).
  const auto range = ideas_range(before, limit);
  const bool anon = anonymous();
  const auto& who = viewer.member.member_id();
  std::vector<const v1::Idea*> page;
  page.reserve(static_cast<std::size_t>(range.end - range.begin));
  std::deque<v1::Idea> redacted;
  for (auto it = range.begin; it != range.end; ++it) {
    if (board::idea_needs_redaction(*it, who, anon)) {
      board::redact_idea(redacted.emplace_back(*it), who, anon);
      page.push_back(&redacted.back());
    } else {
      page.push_back(&*it);
    }
  }
  auto body =
      std::make_shared<const std::string>(codec::encode_ideas_page_body(page, range.has_more));
  if (same_for_all) {
    if (page_cache_.size() >= kPageCacheEntries) {
      page_cache_.clear();
    }
    page_cache_.emplace(key, body);
  }
  return body;
}

void Room::do_create_invite(const MemberHandle& from, const v1::ClientFrame& frame) {
  if (!is_joined(from.conn_id)) {
    return reply_error(from, frame.request_id(), Errc::kNotJoined);
  }
  const auto& cmd = frame.create_invite();
  const auto role = cmd.role() == v1::ROLE_UNSPECIFIED ? v1::ROLE_PARTICIPANT : cmd.role();
  const auto ttl = cmd.ttl_seconds() == 0 ? 7U * 24 * 3600 : cmd.ttl_seconds();
  if ((role != v1::ROLE_FACILITATOR && role != v1::ROLE_PARTICIPANT && role != v1::ROLE_OBSERVER) ||
      ttl < 60 || ttl > 30U * 24 * 3600) {
    return reply_error(from, frame.request_id(), Errc::kInvalidArgument);
  }
  const auto actor = board_.role_of(from.member.member_id());
  if ((actor != v1::ROLE_OWNER && actor != v1::ROLE_FACILITATOR) || ctx_.invite_key.empty()) {
    return reply_error(from, frame.request_id(), Errc::kPermissionDenied);
  }
  const std::int64_t now_s = ctx_.clock->now_unix_ms() / 1000;
  const auth::Invite invite{id_.value(), role, now_s + ttl};
  v1::ServerFrame out;
  out.mutable_reply()->set_request_id(frame.request_id());
  auto* result = out.mutable_reply()->mutable_invite();
  result->set_invite(auth::mint_invite(ctx_.invite_key, invite, now_s));
  result->set_expires_unix_ms(invite.expires_unix_s * 1000);
  reply(from, std::move(out));
}

void Room::do_leave(std::uint64_t conn_id, const MemberHandle* reply_to, std::uint64_t request_id) {
  auto it = members_.find(conn_id);
  if (it == members_.end()) {
    if (reply_to != nullptr) {
      reply_error(*reply_to, request_id, Errc::kNotJoined);
    }
    return;
  }
  MemberHandle gone = std::move(it->second);
  members_.erase(it);
  if (ctx_.metrics != nullptr) {
    ctx_.metrics->room_members.add(-1);
  }
  --encoding_count_[static_cast<std::size_t>(gone.encoding)];
  rebuild_shard_lists();
  if (--online_[gone.member.member_id()].connections == 0) {
    online_.erase(gone.member.member_id());
    v1::ServerFrame presence;
    presence.mutable_presence()->set_room_id(id_.value());
    *presence.mutable_presence()->add_left() = gone.member;
    broadcast(fanout::make_frame_payload(presence, encodings_in_use()));
  }
  if (reply_to != nullptr) {
    v1::ServerFrame out;
    out.mutable_reply()->set_request_id(request_id);
    reply(gone, std::move(out));
  }
}

void Room::do_board_command(const MemberHandle& from, const v1::ClientFrame& frame) {
  if (!is_joined(from.conn_id)) {
    return reply_error(from, frame.request_id(), Errc::kNotJoined);
  }
  auto key = dedup_key(from.member, frame.op_id());
  if (!key.empty()) {
    // Invariant 4: a retry returns the original seq and appends nothing.
    if (auto done = dedup_.find(key); done != dedup_.end()) {
      v1::ServerFrame out;
      out.mutable_reply()->set_request_id(frame.request_id());
      out.mutable_reply()->set_seq(done->second.value());
      out.mutable_reply()->set_duplicate(true);
      return reply(from, std::move(out));
    }
    if (in_flight_ops_.contains(key)) {
      for (auto& p : pending_) {
        if (p.dedup_key == key) {
          p.waiters.push_back(Waiter{.to = from,
                                     .request_id = frame.request_id(),
                                     .duplicate = true,
                                     .command = current_command_});
          return;
        }
      }
    }
  }
  // Against next_: the durable board plus the appends in flight (budgets hold under pipelining).
  auto event = board::validate_command(frame, next_, from.member.member_id(),
                                       ctx_.clock->now_unix_ms(), ctx_.options.board);
  if (!event) {
    return reply_error(from, frame.request_id(), event.error());
  }
  if (pending_.size() >= ctx_.options.max_pending_appends) {
    return reply_error(from, frame.request_id(), Errc::kOverloaded);
  }
  ensure_in_roster(from);
  append(std::move(*event), from,
         Waiter{.to = from, .request_id = frame.request_id(), .command = current_command_},
         std::move(key));
}

void Room::do_typing(const MemberHandle& from, const v1::ClientFrame& frame) {
  if (!is_joined(from.conn_id)) {
    return reply_error(from, frame.request_id(), Errc::kNotJoined);
  }
  // Ephemeral: fanned out, never logged.
  v1::ServerFrame notice;
  notice.mutable_typing()->set_room_id(id_.value());
  if (!anonymous()) {
    *notice.mutable_typing()->mutable_member() = from.member;  // Else "someone is typing".
  }
  broadcast(fanout::make_frame_payload(notice, encodings_in_use()), from.conn_id);
  v1::ServerFrame out;
  out.mutable_reply()->set_request_id(frame.request_id());
  reply(from, std::move(out));
}

void Room::do_mark_read(const MemberHandle& from, const v1::ClientFrame& frame) {
  if (!is_joined(from.conn_id)) {
    return reply_error(from, frame.request_id(), Errc::kNotJoined);
  }
  const Seq seq{frame.mark_read().seq()};
  if (seq > head_) {
    return reply_error(from, frame.request_id(), Errc::kInvalidArgument);
  }
  auto& cursor = cursors_[from.member.member_id()];
  if (seq > cursor) {  // Never backwards: another device may have read further.
    cursor = seq;
    ctx_.log->put_cursor(id_, from.member.member_id(), seq);
  }
  v1::ServerFrame out;
  out.mutable_reply()->set_request_id(frame.request_id());
  out.mutable_reply()->set_seq(cursor.value());
  reply(from, std::move(out));
}

void Room::do_export(const MemberHandle& from, const v1::ClientFrame& frame) {
  if (!is_joined(from.conn_id)) {
    return reply_error(from, frame.request_id(), Errc::kNotJoined);
  }
  const auto format = frame.export_().format();
  auto doc = board::render_export(
      board::redact_snapshot(board_.snapshot(), from.member.member_id()), format);
  if (!doc) {
    return reply_error(from, frame.request_id(), doc.error());
  }
  if (doc->body.size() > ctx_.options.max_export_bytes) {
    return reply_error(from, frame.request_id(), Errc::kExportTooLarge);
  }
  v1::ServerFrame out;
  out.mutable_reply()->set_request_id(frame.request_id());
  auto* result = out.mutable_reply()->mutable_export_();
  result->set_format(format);
  result->set_content_type(doc->content_type);
  result->set_body(std::move(doc->body));
  reply(from, std::move(out));
}

void Room::do_history(const MemberHandle& from, const v1::ClientFrame& frame) {
  if (!is_joined(from.conn_id)) {
    return reply_error(from, frame.request_id(), Errc::kNotJoined);
  }
  const auto& req = frame.get_history();
  std::size_t limit = req.limit() == 0 ? 50 : req.limit();
  if (limit > ctx_.options.max_history_page) {
    return reply_error(from, frame.request_id(), Errc::kInvalidArgument);
  }
  const std::uint64_t before = req.before_seq() == 0 ? head_.value() + 1 : req.before_seq();
  auto send = [self = shared_from_this(), from,
               request_id = frame.request_id()](std::vector<v1::Event> events) {
    // A page must fit the member's outbox: keep the newest events within the byte budget (the
    // client pages on from the oldest one it got).
    std::size_t bytes = 0;
    std::size_t keep_from = events.size();
    while (keep_from > 0) {
      bytes += events[keep_from - 1].ByteSizeLong();
      if (bytes > self->ctx_.options.max_history_bytes && keep_from < events.size()) {
        break;
      }
      --keep_from;
    }
    events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(keep_from));
    v1::ServerFrame out;
    out.mutable_reply()->set_request_id(request_id);
    auto* page = out.mutable_reply()->mutable_history();
    page->set_has_more(!events.empty() && events.front().prev_seq() != 0);
    const bool anonymous = self->anonymous();
    for (auto& e : events) {
      *page->add_events() = board::needs_redaction(e, anonymous)
                                ? board::redact_event(e, from.member.member_id(), anonymous)
                                : std::move(e);
    }
    self->current_command_ = static_cast<int>(v1::ClientFrame::kGetHistory);
    self->reply(from, std::move(out));
    self->current_command_ = 0;
  };
  // Served from memory when the tail covers the page: it holds everything older than the page's
  // first event back to the room's start, or at least `limit` events before `before`.
  std::vector<v1::Event> page;
  std::size_t end = tail_.size();
  while (end > 0 && tail_[end - 1].event.seq() >= before) {
    --end;
  }
  const bool tail_is_complete = !tail_.empty() && tail_.front().event.prev_seq() == 0;
  if (end >= limit || tail_is_complete || (tail_.empty() && head_.value() == 0)) {
    for (std::size_t i = end > limit ? end - limit : 0; i < end; ++i) {
      page.push_back(tail_[i].event);
    }
    return send(std::move(page));
  }
  net::post(ctx_.reader, [self = shared_from_this(), before, limit, send = std::move(send), from,
                          request_id = frame.request_id()]() mutable {
    auto events = self->ctx_.log->read_before(self->id_, Seq{before}, limit);
    net::post(
        self->ctx_.shards->executor(self->shard_),
        [self, events = std::move(events), send = std::move(send), from, request_id]() mutable {
          if (!events) {
            self->current_command_ = static_cast<int>(v1::ClientFrame::kGetHistory);
            self->reply_error(from, request_id, events.error());
            self->current_command_ = 0;
            return;
          }
          send(std::move(*events));
        });
  });
}

// ---- The append path ----

void Room::ensure_in_roster(const MemberHandle& member) {
  const auto& id = member.member.member_id();
  if (next_.has_member(MemberId{id}) || !next_.created() || next_.snapshot().archived()) {
    return;  // An archived room logs nothing more: late joiners read it without a roster entry.
  }
  v1::Event event;
  event.mutable_member_joined()->set_role(
      member.grant == v1::ROLE_UNSPECIFIED ? v1::ROLE_PARTICIPANT : member.grant);
  append(std::move(event), member, std::nullopt, {});
}

void Room::append(v1::Event event, const MemberHandle& actor, std::optional<Waiter> waiter,
                  std::string key, CreatedCallback created, DoneCallback on_durable) {
  const std::uint64_t prev = last_assigned_.value();
  const std::uint64_t seq = prev + 1;  // The local log hands out dense seqs; readers use prev_seq.
  event.set_room_id(id_.value());
  event.set_seq(seq);
  event.set_prev_seq(prev);
  if (event.time_unix_ms() == 0) {
    event.set_time_unix_ms(ctx_.clock->now_unix_ms());
  }
  if (!actor.member.member_id().empty()) {
    *event.mutable_actor() = actor.member;  // Operators' events (RoomArchived) have none.
  }
  last_assigned_ = Seq{seq};
  if (auto ec = next_.apply(event)) {
    // Validated against next_ just now; an event that does not apply is a bug in the rules.
    HUDDLE_BUG("validated event does not apply to the pending board");
  }

  store::AppendRecord record{.room = id_, .seq = Seq{seq}, .prev_seq = Seq{prev}};
  event.SerializeToString(&record.event_bytes);
  if (!key.empty()) {
    huddle::storage::v1::DedupRecord op;
    op.set_member_id(actor.member.member_id());
    op.set_op_id(key.substr(key.find('\0') + 1));
    record.dedup = std::move(op);
    in_flight_ops_.insert(key);
  }
  if (created) {
    record.create_room = meta_;
  }
  const std::uint64_t append_id = ++last_append_id_;
  PendingAppend pending{.append_id = append_id,
                        .generation = generation_,
                        .event = std::move(event),
                        .dedup_key = std::move(key),
                        .created = std::move(created),
                        .on_durable = std::move(on_durable),
                        .started = std::chrono::steady_clock::now()};
  if (waiter) {
    pending.waiters.push_back(std::move(*waiter));
  }
  pending_.push_back(std::move(pending));

  std::vector<store::AppendRecord> records;
  records.push_back(std::move(record));
  ctx_.log->append(std::move(records),
                   [weak = weak_from_this(), exec = ctx_.shards->executor(shard_),
                    append_id](boost::system::error_code ec) {
                     // On the log's writer thread: hand the result back to the room's shard.
                     net::post(exec, [weak, append_id, ec] {
                       if (auto self = weak.lock()) {
                         self->on_appended(append_id, ec);
                       }
                     });
                   });
}

void Room::on_appended(std::uint64_t append_id, boost::system::error_code ec) {
  // The log completes one room's appends in the order they were made.
  HUDDLE_CHECK(!pending_.empty() && pending_.front().append_id == append_id);
  PendingAppend done = std::move(pending_.front());
  const std::uint64_t seq = done.event.seq();
  pending_.pop_front();
  if (!done.dedup_key.empty()) {
    in_flight_ops_.erase(done.dedup_key);
  }

  if (ec) {
    // Nothing was stored, nothing is sent but the error (invariant 3). Appends already handed
    // to the log chain onto this one, so the log rejects them (kConflict) and they fail too;
    // new commands chain onto the durable head again. Only the first failure of a generation
    // rewinds: later failures of that generation are the chained conflicts, and appends of the
    // new generation may already be in flight.
    if (done.generation == generation_) {
      ++generation_;
      last_assigned_ = head_;
      next_ = board_;  // Forget every append of the failed generation.
    }
    if (done.created) {
      state_ = State::kFailed;
      failed_.store(true);
      done.created(false, {});
    }
    for (const auto& w : done.waiters) {
      current_command_ = w.command;
      reply_error(w.to, w.request_id, ec);
    }
    current_command_ = 0;
    if (done.on_durable) {
      done.on_durable(ec);
    }
    if (state_ == State::kFailed) {
      fail_queued(Errc::kRoomNotFound);
    }
    return note_idle_state();
  }

  // Durable: apply, fan out, then ack.
  auto apply_ec = board_.apply(done.event);
  if (apply_ec) {
    // Validated before append; a durable event that does not apply is a bug in the rules.
    HUDDLE_BUG("durable event does not apply to the board");
  }
  head_ = Seq{seq};
  if (ctx_.metrics != nullptr) {
    ctx_.metrics->events_appended.add();
    ctx_.metrics->append_latency.observe_us(std::chrono::duration_cast<std::chrono::microseconds>(
                                                std::chrono::steady_clock::now() - done.started)
                                                .count());
  }
  if (!done.dedup_key.empty()) {
    remember_op(done.dedup_key, head_);
  }
  auto entry = make_tail_entry(std::move(done.event), encodings_in_use());
  broadcast_event(entry);
  tail_.push_back(std::move(entry));
  while (tail_.size() > ctx_.options.tail_events) {
    tail_.pop_front();
  }
  for (const auto& w : done.waiters) {
    v1::ServerFrame out;
    out.mutable_reply()->set_request_id(w.request_id);
    out.mutable_reply()->set_seq(seq);
    out.mutable_reply()->set_duplicate(w.duplicate);
    if (done.created) {
      *out.mutable_reply()->mutable_room() = info();
    }
    current_command_ = w.command;
    reply(w.to, std::move(out));
  }
  current_command_ = 0;
  if (done.on_durable) {
    done.on_durable({});
  }
  if (done.created) {
    state_ = State::kLive;
    done.created(true, info());
    run_queued();
  }
  if (++events_since_snapshot_ >= ctx_.options.snapshot_every) {
    events_since_snapshot_ = 0;
    huddle::storage::v1::SnapshotRecord snap;
    snap.set_seq(head_.value());
    *snap.mutable_board() = board_.snapshot();
    ctx_.log->put_snapshot(id_, std::move(snap));
  }
  note_idle_state();
}

void Room::note_idle_state() {
  connections_.store(members_.size());
  const bool idle =
      members_.empty() && pending_.empty() && queued_.empty() &&
      (state_ == State::kLive || state_ == State::kFailed || state_ == State::kClosed);
  if (!idle) {
    idle_since_ms_.store(0);
  } else if (idle_since_ms_.load() == 0) {
    idle_since_ms_.store(std::max<std::int64_t>(1, ctx_.clock->now_unix_ms()));
  }
}

void Room::remember_op(const std::string& key, Seq seq) {
  if (dedup_.emplace(key, seq).second) {
    dedup_order_.push_back(key);
  }
  while (dedup_order_.size() > ctx_.options.dedup_window) {
    dedup_.erase(dedup_order_.front());
    dedup_order_.pop_front();
  }
}

// ---- Delivery ----

void Room::deliver(const MemberHandle& to, fanout::PayloadPtr payload) {
  if (to.shard == shard_) {
    if (auto outbox = to.outbox.lock()) {
      outbox->push(std::move(payload));
    }
    return;
  }
  net::post(ctx_.shards->executor(to.shard), [outbox = to.outbox, payload = std::move(payload)] {
    if (auto o = outbox.lock()) {
      o->push(payload);
    }
  });
}

void Room::broadcast(const fanout::PayloadPtr& payload, std::uint64_t except_conn) {
  if (except_conn != 0) {
    // Rare (presence, typing): per-member delivery is fine here.
    for (const auto& [conn, member] : members_) {
      if (conn != except_conn) {
        deliver(member, payload);
      }
    }
    return;
  }
  TailEntry entry;
  entry.full = payload;
  broadcast_event(entry);
}

void Room::broadcast_event(const TailEntry& entry) {
  // The hot path: one pointer push per member on this shard, one post per other shard.
  constexpr std::uint32_t kNobody = UINT32_MAX;
  std::uint32_t actor_ix = kNobody;
  if (entry.redacted) {
    if (auto it = member_ix_.find(entry.event.actor().member_id()); it != member_ix_.end()) {
      actor_ix = it->second;
    }
  }
  const auto durable_at = std::chrono::steady_clock::now();
  auto* metrics = ctx_.metrics;
  const auto push_all = [metrics, durable_at](
                            const TargetList& list, const fanout::PayloadPtr& full,
                            const fanout::PayloadPtr& redacted, std::uint32_t actor) {
    for (const auto& t : list) {
      if (auto o = t.outbox.lock()) {
        o->push(redacted && t.member_ix != actor ? redacted : full);
      }
    }
    if (metrics != nullptr) {
      metrics->fanout_latency.observe_us(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - durable_at)
                                             .count());
    }
  };
  for (std::size_t s = 0; s < by_shard_.size(); ++s) {
    const auto& list = by_shard_[s];
    if (!list || list->empty()) {
      continue;
    }
    if (s == shard_) {
      push_all(*list, entry.full, entry.redacted, actor_ix);
      continue;
    }
    net::post(ctx_.shards->executor(s), [list = std::shared_ptr<const TargetList>(list),
                                         full = entry.full, redacted = entry.redacted, actor_ix,
                                         push_all] { push_all(*list, full, redacted, actor_ix); });
  }
}

Room::TailEntry Room::make_tail_entry(v1::Event event,
                                      const std::array<bool, codec::kEncodingCount>& wanted) const {
  TailEntry entry;
  entry.bytes = event.ByteSizeLong();
  entry.full = fanout::make_event_payload(event, wanted);
  if (board::needs_redaction(event, anonymous())) {
    // Everyone but the actor sees the same redacted bytes: one more encoding, not one per member.
    entry.redacted =
        fanout::make_event_payload(board::redact_event(event, "", anonymous()), wanted);
  }
  entry.event = std::move(event);
  return entry;
}

fanout::PayloadPtr Room::tail_payload(TailEntry& entry, const MemberHandle& viewer) {
  const bool own = entry.event.actor().member_id() == viewer.member.member_id();
  auto& payload = entry.redacted && !own ? entry.redacted : entry.full;
  if (payload->for_encoding(viewer.encoding).empty()) {
    // Loaded from disk, or nobody used this encoding when it was fanned out: encode it now,
    // once, for every encoding in use (later resumers share it).
    auto wanted = encodings_in_use();
    wanted[static_cast<std::size_t>(viewer.encoding)] = true;
    const bool redacted = entry.redacted && !own;
    payload = fanout::make_event_payload(
        redacted ? board::redact_event(entry.event, "", anonymous()) : entry.event, wanted);
  }
  return payload;
}

fanout::PayloadPtr Room::snapshot_payload(const MemberHandle& viewer, std::uint32_t ideas_limit) {
  const auto& board = board_.snapshot();
  const auto total = static_cast<std::size_t>(board.ideas_size());
  const std::size_t keep = ideas_limit == 0 ? total : std::min<std::size_t>(ideas_limit, total);
  // Everyone sees the same board unless ideas are hidden or the room is anonymous: then it is
  // encoded once per head and encoding, and a join storm shares one buffer (invariant 7).
  const bool same_for_all = board.hidden_idea_count() == 0 && !board.options().anonymous();
  auto& cached = snapshot_cache_[static_cast<std::size_t>(viewer.encoding)];
  if (same_for_all && cached.payload && cached.seq == head_ && cached.ideas == keep) {
    return cached.payload;
  }
  const auto omitted = static_cast<std::uint32_t>(total - keep);
  auto encode = [&](const v1::BoardSnapshot& b) {
    return codec::encode_snapshot_frame(id_.value(), head_.value(), b, omitted, viewer.encoding);
  };
  auto redacted = [&](const v1::BoardSnapshot& b) {
    return board::redact_snapshot(b, viewer.member.member_id());
  };
  std::string bytes;
  if (omitted == 0) {
    bytes = same_for_all ? encode(board) : encode(redacted(board));
  } else {
    const auto newest = board::with_newest_ideas(board, keep);
    bytes = same_for_all ? encode(newest) : encode(redacted(newest));
  }
  auto p = std::make_shared<fanout::Payload>();
  p->bytes[static_cast<std::size_t>(viewer.encoding)] = std::move(bytes);
  p->outside_bound = true;  // A board may be bigger than the outbox bound; joining it is no 4008.
  fanout::PayloadPtr payload = std::move(p);
  if (same_for_all) {
    cached = SnapshotCache{.seq = head_, .ideas = keep, .payload = payload};
  }
  return payload;
}

void Room::rebuild_shard_lists() {
  std::vector<TargetList> lists(by_shard_.size());
  std::vector<std::size_t> sizes(by_shard_.size());
  for (const auto& [conn, member] : members_) {
    ++sizes[member.shard];
  }
  for (std::size_t s = 0; s < lists.size(); ++s) {
    lists[s].reserve(sizes[s]);
  }
  for (const auto& [conn, member] : members_) {
    lists[member.shard].push_back(
        Target{.outbox = member.outbox, .member_ix = member_ix_.at(member.member.member_id())});
  }
  for (std::size_t s = 0; s < lists.size(); ++s) {
    by_shard_[s] = lists[s].empty() ? nullptr : std::make_shared<TargetList>(std::move(lists[s]));
  }
}

void Room::add_target(const MemberHandle& member) {
  auto& list = by_shard_[member.shard];
  // The room's own shard's list is only ever read here, on this strand (broadcast_event pushes
  // to it inline; only other shards' lists are posted): append in place. The other shards'
  // lists may be in flight to their threads: copy-on-write.
  if (member.shard == shard_ && list) {
    list->push_back(
        Target{.outbox = member.outbox, .member_ix = member_ix_.at(member.member.member_id())});
    return;
  }
  rebuild_shard_lists();
}

void Room::reply(const MemberHandle& to, v1::ServerFrame frame) {
  count_reply(frame);
  deliver(to, fanout::make_frame_payload(frame, to.encoding));
}

void Room::count_reply(const v1::ServerFrame& frame) const {
  if (ctx_.metrics != nullptr && current_command_ != 0 && frame.has_reply()) {
    ctx_.metrics->command(current_command_, static_cast<int>(frame.reply().error().code()));
  }
}

void Room::reply_error(const MemberHandle& to, std::uint64_t request_id,
                       const boost::system::error_code& ec) {
  reply(to, codec::make_error_reply(request_id, ec));
}

std::array<bool, codec::kEncodingCount> Room::encodings_in_use() const {
  std::array<bool, codec::kEncodingCount> wanted{};
  for (std::size_t i = 0; i < codec::kEncodingCount; ++i) {
    wanted[i] = encoding_count_[i] > 0;
  }
  return wanted;
}

v1::RoomInfo Room::info() const {
  return board_.created() ? board_.snapshot().room() : meta_.info();
}

}  // namespace huddle::room
