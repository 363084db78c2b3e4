// Room: the single writer of one room's stream. Owner: its shard (ShardSet::shard_for(id));
// every member function except the public entry points runs there.
//
// The path of a command: validate against BoardState and the actor -> Event{seq, prev_seq} ->
// EventLog::append (durable, group commit) -> BoardState::apply -> encode once per encoding ->
// fan out to members' outboxes -> Reply to the sender (after it is durable, invariant 3).
// Invariants kept here: seq/prev_seq chain (1), resume EXACT/SNAPSHOT/RESET (2), nothing is
// fanned out or acked before the log says durable (3), op_id dedup (4), every member gets only
// what they may see (6, via core/board/visibility), encode once per encoding and visibility
// class (7), bad commands change nothing (9).
//
// Two boards: `board_` is the durable state (what members are sent, snapshots), `next_` is the
// durable state plus every append still in flight. Commands are validated against `next_`, so
// two votes in flight cannot both spend a member's last vote.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/board/board_state.hpp"
#include "core/board/export.hpp"
#include "core/common/ids.hpp"
#include "huddle/v1/frame.pb.h"
#include "server/fanout/payload.hpp"
#include "server/room/member.hpp"
#include "server/room/room_context.hpp"

namespace huddle::room {

class Room : public std::enable_shared_from_this<Room> {
 public:
  // Told once whether a create() succeeded (true) or failed (false); runs on the room's shard.
  using CreatedCallback = std::function<void(bool, const huddle::v1::RoomInfo&)>;

  Room(RoomId id, std::size_t shard, RoomContext& ctx);
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;
  Room(Room&&) = delete;
  Room& operator=(Room&&) = delete;
  ~Room() = default;

  // Entry points, callable from any thread: they post to the room's shard. Exactly one of
  // open() / create() is called, right after construction. Commands that arrive while the room
  // loads are queued and run in order once it is live.
  void open();
  void create(MemberHandle from, huddle::v1::ClientFrame frame, CreatedCallback done);
  void submit(MemberHandle from, huddle::v1::ClientFrame frame);
  void disconnect(std::uint64_t conn_id);
  // The board as an outsider may see it, rendered in `format`; `done` runs on the room's shard
  // (kRoomNotFound if the room could not be loaded).
  using ExportCallback = std::function<void(Result<board::ExportDocument>)>;
  void export_board(huddle::v1::ExportFormat format, ExportCallback done);

  // Operator actions (the admin API). Any thread; `done` runs on the room's shard.
  struct Stats {
    huddle::v1::BoardSnapshot board;  // The full board (not redacted: for the operator's counts).
    std::uint64_t head_seq = 0;
    std::size_t connections = 0;  // Joined connections.
    std::size_t members_online = 0;
  };
  using StatsCallback = std::function<void(Result<Stats>)>;
  void stats(StatsCallback done);
  using DoneCallback = std::function<void(boost::system::error_code)>;
  // Appends RoomArchived (durable before `done`); kRoomArchived if it already is.
  void archive(std::string reason, DoneCallback done);
  // The room stops serving (every later command: kRoomNotFound), tells each joined connection
  // RoomClosed, and has the log delete it after the appends already in flight; `done` once the
  // deletion is durable. The registry has already forgotten the room.
  void close_and_delete(std::string reason, DoneCallback done);

  [[nodiscard]] const RoomId& id() const noexcept { return id_; }
  [[nodiscard]] std::size_t shard() const noexcept { return shard_; }
  // Any thread: the room could not be loaded or created; it serves nothing.
  [[nodiscard]] bool failed() const noexcept { return failed_.load(); }
  // Any thread: since when (clock ms) the room has had no member, no append in flight and no
  // queued command; 0 while it has any. The registry evicts rooms idle for long enough.
  [[nodiscard]] std::int64_t idle_since_ms() const noexcept { return idle_since_ms_.load(); }
  // Any thread: joined connections, as of the last command.
  [[nodiscard]] std::size_t connections() const noexcept { return connections_.load(); }

 private:
  enum class State { kNew, kLoading, kCreating, kLive, kFailed, kClosed };

  struct Waiter {  // Someone owed a Reply when an append completes.
    MemberHandle to;
    std::uint64_t request_id = 0;
    bool duplicate = false;
    int command = 0;  // ClientFrame field number, for the commands metric.
  };
  struct PendingAppend {
    std::uint64_t append_id = 0;   // Unique per room object; matches the log's completion.
    std::uint64_t generation = 0;  // Bumped when a failure rewinds last_assigned_.
    huddle::v1::Event event;
    std::vector<Waiter> waiters;
    std::string dedup_key;  // Empty: no op id.
    CreatedCallback created;
    DoneCallback on_durable;
    std::chrono::steady_clock::time_point started;  // Handed to the log (append latency).
  };
  // An event as fanned out: `full` for its actor, `redacted` for everyone else (null when both
  // see the same bytes). Either may lack an encoding nobody used then.
  struct TailEntry {
    huddle::v1::Event event;
    std::size_t bytes = 0;  // event.ByteSizeLong(), for the EXACT resume's byte limit.
    fanout::PayloadPtr full;
    fanout::PayloadPtr redacted;
  };
  // An outbox on a shard, with the member it belongs to (an index into member_ix_).
  struct Target {
    std::weak_ptr<fanout::Outbox> outbox;
    std::uint32_t member_ix = 0;
  };
  using TargetList = std::vector<Target>;

  // Room shard only, below.
  void handle(MemberHandle from, huddle::v1::ClientFrame frame);
  void on_loaded(Result<store::RoomLoad> load);
  // Runs `task` now if the room is live (or failed/closed), or once it is, in order with the
  // commands queued while it loads.
  void when_loaded(std::function<void()> task);
  void fail_queued(const boost::system::error_code& ec);
  void run_queued();

  void do_join(const MemberHandle& from, const huddle::v1::ClientFrame& frame);
  void do_create_invite(const MemberHandle& from, const huddle::v1::ClientFrame& frame);
  void do_leave(std::uint64_t conn_id, const MemberHandle* reply_to, std::uint64_t request_id);
  void do_board_command(const MemberHandle& from, const huddle::v1::ClientFrame& frame);
  void do_mark_read(const MemberHandle& from, const huddle::v1::ClientFrame& frame);
  void do_export(const MemberHandle& from, const huddle::v1::ClientFrame& frame);
  void do_typing(const MemberHandle& from, const huddle::v1::ClientFrame& frame);
  void do_history(const MemberHandle& from, const huddle::v1::ClientFrame& frame);
  void do_get_ideas(const MemberHandle& from, const huddle::v1::ClientFrame& frame);
  void serve_pages();  // The GetIdeas requests queued since the last call.
  // GetIdeas: the ideas of a page, the page for a JSON member, and the IdeasPage bytes for a
  // proto member (cached while the head does not move, when everyone sees the same ideas).
  struct IdeaRange {
    google::protobuf::RepeatedPtrField<huddle::v1::Idea>::const_iterator begin, end;
    bool has_more = false;
  };
  [[nodiscard]] IdeaRange ideas_range(std::uint64_t before, std::size_t limit) const;
  [[nodiscard]] huddle::v1::ServerFrame ideas_page_frame(const MemberHandle& viewer,
                                                         std::uint64_t request_id,
                                                         std::uint64_t before,
                                                         std::size_t limit) const;
  std::shared_ptr<const std::string> ideas_page_body(const MemberHandle& viewer,
                                                     std::uint64_t before, std::size_t limit);

  // Assigns seq/prev_seq and starts a durable append. `event` carries only the payload (and
  // room_id for creates).
  // `on_durable`: an operator's append (no member waits for it), told the outcome.
  void append(huddle::v1::Event event, const MemberHandle& actor, std::optional<Waiter> waiter,
              std::string dedup_key, CreatedCallback created = {}, DoneCallback on_durable = {});
  void on_appended(std::uint64_t append_id, boost::system::error_code ec);
  void ensure_in_roster(const MemberHandle& member);

  // Delivery to members' outboxes, local shard directly, other shards one post per shard.
  void deliver(const MemberHandle& to, fanout::PayloadPtr payload);
  void broadcast(const fanout::PayloadPtr& payload, std::uint64_t except_conn = 0);
  // An event to every member: the actor's connections get `full`, the others `redacted` (or
  // `full` when it is null).
  void broadcast_event(const TailEntry& entry);
  // The tail entry's payload for `viewer`, encoded for `encoding` (encoding it now if needed).
  fanout::PayloadPtr tail_payload(TailEntry& entry, const MemberHandle& viewer);
  // The join snapshot for `viewer`: redacted for them, shared while the head does not move when
  // every member sees the same board.
  // `ideas_limit` (Join.snapshot_ideas): keep only that many of the newest ideas; 0 = all.
  fanout::PayloadPtr snapshot_payload(const MemberHandle& viewer, std::uint32_t ideas_limit);
  [[nodiscard]] TailEntry make_tail_entry(
      huddle::v1::Event event, const std::array<bool, codec::kEncodingCount>& wanted) const;
  [[nodiscard]] bool anonymous() const { return board_.snapshot().options().anonymous(); }
  void reply(const MemberHandle& to, huddle::v1::ServerFrame frame);
  void reply_error(const MemberHandle& to, std::uint64_t request_id,
                   const boost::system::error_code& ec);
  [[nodiscard]] std::array<bool, codec::kEncodingCount> encodings_in_use() const;
  void rebuild_shard_lists();
  void add_target(const MemberHandle& member);  // A new joined connection.

  [[nodiscard]] bool is_joined(std::uint64_t conn_id) const { return members_.contains(conn_id); }
  [[nodiscard]] huddle::v1::RoomInfo info() const;
  void remember_op(const std::string& key, Seq seq);

  // The command whose replies are being produced (ClientFrame field number; 0 = none), so that
  // reply() can count commands by type and result without threading it through every call.
  int current_command_ = 0;
  void count_reply(const huddle::v1::ServerFrame& frame) const;

  const RoomId id_;
  const std::size_t shard_;
  RoomContext& ctx_;

  std::atomic<bool> failed_{false};
  std::atomic<std::int64_t> idle_since_ms_{0};
  std::atomic<std::size_t> connections_{0};
  // Room shard: recomputes idle_since_ms_ after anything that may change it.
  void note_idle_state();
  State state_ = State::kNew;  // Owner: room shard.
  struct Queued {
    MemberHandle from;
    huddle::v1::ClientFrame frame;
    bool disconnect = false;
    std::function<void()> task;  // Set: run it (an export) instead of a command.
  };
  std::deque<Queued> queued_;  // While loading or creating.
  huddle::storage::v1::RoomMeta meta_;
  board::BoardState board_;                        // Durable state, at head_.
  board::BoardState next_;                         // board_ + pending_, at last_assigned_.
  Seq head_;                                       // Newest durable event.
  Seq last_assigned_;                              // Newest event handed to the log.
  std::deque<PendingAppend> pending_;              // In log order.
  std::deque<TailEntry> tail_;                     // Newest durable events.
  std::unordered_map<std::string, Seq> dedup_;     // member \0 op_id -> seq.
  std::deque<std::string> dedup_order_;            // Eviction order of dedup_.
  std::unordered_set<std::string> in_flight_ops_;  // Dedup keys of pending_ entries.
  std::uint64_t last_append_id_ = 0;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, Seq> cursors_;  // member_id -> read cursor (MarkRead).
  std::size_t events_since_snapshot_ = 0;

  std::unordered_map<std::uint64_t, MemberHandle> members_;  // conn_id -> handle.
  struct Online {
    int connections = 0;
    huddle::v1::Member member;  // As its first connection gave it.
    std::string piece;          // codec::encode_online_member(member).
  };
  std::map<std::string, Online, std::less<>> online_;  // By member_id: the join reply's order.
  std::unordered_map<std::string, std::uint32_t> member_ix_;  // member_id -> index, for Target.
  std::array<std::size_t, codec::kEncodingCount> encoding_count_{};
  // Per shard: the outboxes of the members on it, so that a cross-shard fan-out posts one
  // pointer per shard, not one closure per member. Copy-on-write: rebuilt on leave and rejoin,
  // and on a join from another shard; a join on the room's own shard appends in place.
  std::vector<std::shared_ptr<TargetList>> by_shard_;
  struct SnapshotCache {
    Seq seq;
    std::size_t ideas = 0;  // How many of the board's ideas it holds (the newest).
    fanout::PayloadPtr payload;
  };
  std::array<SnapshotCache, codec::kEncodingCount> snapshot_cache_{};  // Per encoding.
  struct PageRequest {
    MemberHandle to;
    std::uint64_t request_id = 0;
    std::uint64_t before = 0;
    std::size_t limit = 0;
  };
  std::vector<PageRequest> page_requests_;  // GetIdeas waiting for serve_pages().
  bool pages_posted_ = false;
  // GetIdeas pages (proto) by (before_idea_id, limit), valid while the board's ideas_seq() is
  // page_cache_seq_ (a join or a chat line moves the head, not the ideas).
  static constexpr std::size_t kPageCacheEntries = 16;  // At most 16 x 256 KiB per room.
  Seq page_cache_seq_;
  std::map<std::pair<std::uint64_t, std::size_t>, std::shared_ptr<const std::string>> page_cache_;
};

}  // namespace huddle::room
