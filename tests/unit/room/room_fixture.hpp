// The Room test fixture: Room + RoomRegistry driven for real: a MemoryEventLog (optionally
// behind a log that holds appends until released), one shard whose io_context the test runs by
// hand, a reader io_context, a manual clock, and members whose outboxes are real fanout::Outbox
// objects drained and decoded like a session writer would. Single-threaded and deterministic: no
// sleeps. Shared by room_test.cpp (the stream: order, resume, dedup, failures) and
// room_board_test.cpp (the board on the server: budgets in flight, visibility, cursors, export).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "core/board/board_state.hpp"
#include "server/codec/frame_codec.hpp"
#include "server/fanout/outbox.hpp"
#include "server/room/member.hpp"
#include "server/room/room.hpp"
#include "server/room/room_context.hpp"
#include "server/room/room_registry.hpp"
#include "server/store/memory_event_log.hpp"
#include "server/util/clock.hpp"
#include "server/util/shards.hpp"

namespace huddle::room::test {

namespace v1 = huddle::v1;
using codec::Encoding;

constexpr std::uint64_t kEpoch = 4242;
constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr const char* kRoom = "q3-plan";

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t now) : now_(now) {}
  [[nodiscard]] std::int64_t now_unix_ms() const override { return now_; }
  void set(std::int64_t now) { now_ = now; }

 private:
  std::int64_t now_;
};

// Forwards to another EventLog. While holding, append() keeps the request (records and
// callback) and reaches the inner log only on release: until then the event is not durable.
class HoldingLog final : public store::EventLog {
 public:
  explicit HoldingLog(store::EventLog& inner) : inner_(inner) {}

  void hold() { holding_ = true; }
  [[nodiscard]] std::size_t held() const { return held_.size(); }
  // Forwards the oldest held append to the inner log (which completes it inline).
  void release_one() {
    ASSERT_FALSE(held_.empty());
    auto h = std::move(held_.front());
    held_.pop_front();
    inner_.append(std::move(h.records), std::move(h.done));
  }
  // Forwards everything held and stops holding.
  void release_all() {
    holding_ = false;
    while (!held_.empty()) {
      release_one();
    }
  }

  [[nodiscard]] Epoch epoch() const override { return inner_.epoch(); }
  void append(std::vector<store::AppendRecord> records, store::AppendCallback done) override {
    if (!holding_) {
      inner_.append(std::move(records), std::move(done));
      return;
    }
    held_.push_back(Held{std::move(records), std::move(done)});
  }
  void put_snapshot(const RoomId& room, huddle::storage::v1::SnapshotRecord record) override {
    inner_.put_snapshot(room, std::move(record));
  }
  void put_cursor(const RoomId& room, const std::string& member_id, Seq seq) override {
    inner_.put_cursor(room, member_id, seq);
  }
  void delete_room(const RoomId& room, store::AppendCallback done) override {
    inner_.delete_room(room, std::move(done));
  }
  [[nodiscard]] Result<std::vector<v1::RoomInfo>> list_rooms() override {
    return inner_.list_rooms();
  }
  [[nodiscard]] Result<store::RoomLoad> load_room(const RoomId& room,
                                                  const store::LoadOptions& opts) override {
    if (failing_loads_ > 0) {
      --failing_loads_;
      return Errc::kStorageUnavailable;
    }
    return inner_.load_room(room, opts);
  }
  // The next n load_room() calls fail (a transient read error).
  void fail_next_loads(int n) { failing_loads_ = n; }
  [[nodiscard]] Result<std::vector<v1::Event>> read_before(const RoomId& room, Seq before,
                                                           std::size_t limit) override {
    return inner_.read_before(room, before, limit);
  }
  [[nodiscard]] Result<std::vector<v1::Event>> read_after(const RoomId& room, Seq after,
                                                          std::size_t limit) override {
    return inner_.read_after(room, after, limit);
  }
  [[nodiscard]] Result<Seq> head(const RoomId& room) override { return inner_.head(room); }

 private:
  struct Held {
    std::vector<store::AppendRecord> records;
    store::AppendCallback done;
  };
  store::EventLog& inner_;
  bool holding_ = false;
  int failing_loads_ = 0;
  std::deque<Held> held_;
};

// One connection of a member: its handle for the room and the outbox its writer drains.
struct Client {
  MemberHandle handle;
  std::shared_ptr<fanout::Outbox> outbox;
};

// Decoded server messages with readable accessors.
struct Received {
  std::vector<v1::ServerFrame> frames;

  // "reply snapshot events ..." in arrival order; presence and typing included.
  [[nodiscard]] std::string kinds() const {
    std::string out;
    for (const auto& f : frames) {
      if (!out.empty()) {
        out += ' ';
      }
      switch (f.frame_case()) {
        case v1::ServerFrame::kReply: out += "reply"; break;
        case v1::ServerFrame::kEventBatch: out += "events"; break;
        case v1::ServerFrame::kSnapshot: out += "snapshot"; break;
        case v1::ServerFrame::kPresence: out += "presence"; break;
        case v1::ServerFrame::kTyping: out += "typing"; break;
        case v1::ServerFrame::kRoomClosed: out += "closed"; break;
        case v1::ServerFrame::kAuthExpiring: out += "auth_expiring"; break;
        case v1::ServerFrame::FRAME_NOT_SET: out += "empty"; break;
      }
    }
    return out;
  }
  [[nodiscard]] Received without_presence() const {
    Received out;
    for (const auto& f : frames) {
      if (!f.has_presence()) {
        out.frames.push_back(f);
      }
    }
    return out;
  }
  [[nodiscard]] std::vector<v1::Event> events() const {
    std::vector<v1::Event> out;
    for (const auto& f : frames) {
      for (const auto& e : f.event_batch().events()) {
        out.push_back(e);
      }
    }
    return out;
  }
  [[nodiscard]] std::vector<v1::Reply> replies() const {
    std::vector<v1::Reply> out;
    for (const auto& f : frames) {
      if (f.has_reply()) {
        out.push_back(f.reply());
      }
    }
    return out;
  }
  // The one reply to `request_id`; fails the test if there is not exactly one.
  [[nodiscard]] v1::Reply reply_to(std::uint64_t request_id) const {
    std::vector<v1::Reply> found;
    for (const auto& r : replies()) {
      if (r.request_id() == request_id) {
        found.push_back(r);
      }
    }
    EXPECT_EQ(found.size(), 1U) << "replies to request " << request_id;
    return found.empty() ? v1::Reply{} : found.front();
  }
  [[nodiscard]] std::vector<v1::RoomSnapshot> snapshots() const {
    std::vector<v1::RoomSnapshot> out;
    for (const auto& f : frames) {
      if (f.has_snapshot()) {
        out.push_back(f.snapshot());
      }
    }
    return out;
  }
};

inline std::vector<std::uint64_t> seqs_of(const std::vector<v1::Event>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) {
    out.push_back(e.seq());
  }
  return out;
}

inline std::vector<std::string> texts_of(const std::vector<v1::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    out.push_back(e.chat_posted().text());
  }
  return out;
}

// Invariant 1: each event names the one before it; the first chains onto `from_seq`.
inline void expect_prev_seq_chain(const std::vector<v1::Event>& events, std::uint64_t from_seq) {
  std::uint64_t prev = from_seq;
  for (const auto& e : events) {
    EXPECT_EQ(e.prev_seq(), prev) << "event seq " << e.seq();
    EXPECT_GT(e.seq(), prev);
    prev = e.seq();
  }
}

// ---- Frames ----

inline v1::ClientFrame create_frame(std::uint64_t request_id, const std::string& room,
                                    const std::string& title = "") {
  v1::ClientFrame f;
  f.set_request_id(request_id);
  f.mutable_create_room()->set_room_id(room);
  f.mutable_create_room()->set_title(title);
  return f;
}

inline v1::ClientFrame join_frame(
    std::uint64_t request_id, std::optional<std::pair<std::uint64_t, std::uint64_t>> resume = {}) {
  v1::ClientFrame f;
  f.set_request_id(request_id);
  f.mutable_join()->set_room_id(kRoom);
  if (resume) {
    f.mutable_join()->mutable_resume()->set_epoch(resume->first);
    f.mutable_join()->mutable_resume()->set_last_seq(resume->second);
  }
  return f;
}

inline v1::ClientFrame chat_frame(std::uint64_t request_id, const std::string& text,
                                  const std::string& op_id = "") {
  v1::ClientFrame f;
  f.set_request_id(request_id);
  f.set_op_id(op_id);
  f.mutable_post_chat()->set_room_id(kRoom);
  f.mutable_post_chat()->set_text(text);
  return f;
}

inline v1::ClientFrame idea_frame(std::uint64_t request_id, const std::string& text) {
  v1::ClientFrame f;
  f.set_request_id(request_id);
  f.mutable_post_idea()->set_room_id(kRoom);
  f.mutable_post_idea()->set_text(text);
  return f;
}

inline v1::ClientFrame history_frame(std::uint64_t request_id, std::uint64_t before_seq,
                                     std::uint32_t limit) {
  v1::ClientFrame f;
  f.set_request_id(request_id);
  f.mutable_get_history()->set_room_id(kRoom);
  f.mutable_get_history()->set_before_seq(before_seq);
  f.mutable_get_history()->set_limit(limit);
  return f;
}

class RoomTest : public ::testing::Test {
 protected:
  RoomTest() {
    ctx_.shards = &shards_;
    ctx_.log = &log_;
    ctx_.clock = &clock_;
    ctx_.reader = reader_.get_executor();
    registry_ = std::make_unique<RoomRegistry>(ctx_);
  }

  // Options must be set before the room is created or opened.
  RoomOptions& options() { return ctx_.options; }

  // Runs the room's shard and the reader until neither has anything left to do. Everything is
  // on this thread; the iteration cap stands in for a deadline should a handler loop forever.
  void run() {
    auto& shard = shards_.context(0);
    for (int i = 0; i < 100'000; ++i) {
      shard.restart();
      reader_.restart();
      if (shard.poll() + reader_.poll() == 0) {
        return;
      }
    }
    FAIL() << "the room never went idle";
  }

  Client connect(const std::string& member_id, Encoding encoding = Encoding::kProto) {
    Client c;
    c.outbox = std::make_shared<fanout::Outbox>(encoding, fanout::OutboxOptions{});
    c.handle.conn_id = next_conn_id_++;
    c.handle.member.set_member_id(member_id);
    c.handle.member.set_display_name("Name " + member_id);
    c.handle.shard = 0;
    c.handle.outbox = c.outbox;
    c.handle.encoding = encoding;
    return c;
  }

  // Everything the client's writer would send, decoded.
  static Received drain(Client& c) {
    Received out;
    fanout::OutMessage taken;
    while (c.outbox->take_message(taken)) {
      auto message = codec::decode_server_message(taken.str(), c.outbox->encoding());
      EXPECT_TRUE(message) << "undecodable server message";
      if (!message) {
        continue;
      }
      // Frames in order; consecutive event batches read as one (packing is the Outbox's
      // business, tested there).
      for (auto& frame : *message->mutable_frames()) {
        if (frame.has_event_batch() && !out.frames.empty() && out.frames.back().has_event_batch()) {
          for (auto& e : *frame.mutable_event_batch()->mutable_events()) {
            *out.frames.back().mutable_event_batch()->add_events() = std::move(e);
          }
          continue;
        }
        out.frames.push_back(std::move(frame));
      }
    }
    return out;
  }

  std::shared_ptr<Room> room(RoomRegistry& registry) {
    auto r = registry.find(RoomId{kRoom});
    EXPECT_NE(r, nullptr);
    return r;
  }
  std::shared_ptr<Room> room() { return room(*registry_); }

  // Submits and runs to idle.
  void send(Client& c, v1::ClientFrame frame) { send(*registry_, c, std::move(frame)); }
  void send(RoomRegistry& registry, Client& c, v1::ClientFrame frame) {
    room(registry)->submit(c.handle, std::move(frame));
    run();
  }

  // Sends one command, runs to idle, and returns its reply (everything else `c` got is drained).
  v1::Reply ask(Client& c, v1::ClientFrame frame) {
    const auto id = frame.request_id();
    send(c, std::move(frame));
    return drain(c).reply_to(id);
  }

  // kRoom created by `owner` with these options, then joined by everyone in `members`; what the
  // joins produced is drained.
  void create_board(Client& owner, bool anonymous, bool hide_ideas,
                    const std::vector<Client*>& members) {
    auto frame = create_frame(1, kRoom, "Board");
    frame.mutable_create_room()->set_anonymous(anonymous);
    frame.mutable_create_room()->set_hide_ideas(hide_ideas);
    ASSERT_FALSE(registry_->create(owner.handle, frame));
    run();
    ASSERT_FALSE(drain(owner).reply_to(1).has_error());
    join(owner);
    for (auto* m : members) {
      join(*m);
    }
    drain(owner);
    for (auto* m : members) {
      drain(*m);
    }
  }

  // Creates kRoom as `c` and checks the reply.
  void create_room(Client& c) {
    ASSERT_FALSE(registry_->create(c.handle, create_frame(1, kRoom, "Q3 plan")));
    run();
    auto reply = drain(c).reply_to(1);
    ASSERT_FALSE(reply.has_error()) << reply.error().message();
    ASSERT_EQ(reply.seq(), 1U);
  }

  // Joins fresh and drains everything the join produced.
  Received join(Client& c, std::uint64_t request_id = 2) {
    send(c, join_frame(request_id));
    return drain(c);
  }

  [[nodiscard]] std::uint64_t head() {
    auto h = memory_.head(RoomId{kRoom});
    return h ? h->value() : 0;
  }
  [[nodiscard]] std::vector<v1::Event> log_events(std::uint64_t after = 0) {
    auto events = memory_.read_after(RoomId{kRoom}, Seq{after}, 1'000'000);
    EXPECT_TRUE(events);
    return events ? *events : std::vector<v1::Event>{};
  }

  store::MemoryEventLog memory_{Epoch{kEpoch}};
  HoldingLog log_{memory_};
  ManualClock clock_{kNow};
  ShardSet shards_{1};
  boost::asio::io_context reader_;
  RoomContext ctx_;
  std::unique_ptr<RoomRegistry> registry_;
  std::uint64_t next_conn_id_ = 1;
};

}  // namespace huddle::room::test
