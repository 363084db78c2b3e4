// huddle::Client: the C++ SDK's connection to a Huddle server (docs/PROTOCOL.md).
//
// What it promises:
// - Every event of a joined room reaches `RoomHandlers::on_event` exactly once, in order, across
//   disconnects and server restarts: it resumes from (epoch, last seq), drops duplicates by seq,
//   detects gaps by prev_seq (and resyncs), and after a SNAPSHOT resume fetches the missed events
//   with getHistory before delivering newer ones. RESET (the store was replaced) is reported with
//   `on_reset`, never silently.
// - Commands are sent once each, with an op id, and resent with the same op id after a
//   reconnect until the server replies, so a retry never appends twice. Commands issued while
//   disconnected wait in a bounded offline queue.
// - A room's BoardMirror equals the board the server would send this member.
//
// Threading: the Client runs on a strand of the executor it is given; every handler runs on that
// strand. Every public member function is thread-safe. The std::future overloads must not be
// waited on from a handler (the strand would wait for itself). Destroy the Client only after
// stop() and once the executor no longer runs its handlers (for example after io_context::run
// returned), or from a thread outside the executor after stop().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "huddle/board_mirror.hpp"
#include "huddle/v1/frame.pb.h"

namespace huddle {

// Why a command failed on the client's side (the server's reasons are v1::ErrorCode).
enum class ClientError {
  kNone = 0,
  kTimeout,    // No reply within ClientOptions::request_timeout after it was sent.
  kQueueFull,  // The offline queue holds ClientOptions::max_queued_commands already.
  kStopped,    // stop() was called before the reply.
  kNotJoined,  // A room command for a room this Client was not asked to join.
};

struct CommandResult {
  huddle::v1::ErrorCode code = huddle::v1::ERROR_CODE_UNSPECIFIED;  // The server's, if any.
  ClientError client_error = ClientError::kNone;
  std::string message;      // Human-readable; empty on success.
  huddle::v1::Reply reply;  // The server's reply (seq, duplicate, results).

  [[nodiscard]] bool ok() const noexcept {
    return code == huddle::v1::ERROR_CODE_UNSPECIFIED && client_error == ClientError::kNone;
  }
  [[nodiscard]] std::uint64_t seq() const noexcept { return reply.seq(); }
};

struct ClientOptions {
  std::string url = "ws://127.0.0.1:8080/ws";  // ws://HOST:PORT/PATH (wss: not yet).
  std::string display_name = "guest";
  std::string member_id;  // Empty: the server assigns one on the first hello; it is kept after.
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds reconnect_min{100};  // Backoff doubles up to max, with +-50% jitter.
  std::chrono::milliseconds reconnect_max{5'000};
  std::size_t max_queued_commands = 10'000;
  std::size_t max_message_bytes = 8 * 1024 * 1024;  // A larger server message is an error.
};

struct RoomHandlers {
  // Each event once, in order. The mirror has applied it when this runs.
  std::function<void(const huddle::v1::Event&, const BoardMirror&)> on_event;
  // The store was replaced (RESET): local history is gone; the mirror holds the new board.
  std::function<void(const BoardMirror&)> on_reset;
  // The first board after join() (and after each RESET): the mirror is usable.
  std::function<void(const BoardMirror&)> on_ready;
  // Ephemeral, never logged: who came online or left, who is typing.
  std::function<void(const huddle::v1::Presence&)> on_presence;
  std::function<void(const huddle::v1::TypingNotice&)> on_typing;
  // An operator deleted the room: the client forgets it (no resume); nothing more comes.
  std::function<void(const huddle::v1::RoomClosed&)> on_closed;
};

class Client {
 public:
  using ResultHandler = std::function<void(CommandResult)>;

  Client(boost::asio::any_io_executor executor, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) = delete;
  Client& operator=(Client&&) = delete;

  // Connects, says hello, and keeps reconnecting (with backoff) until stop().
  void start();
  // Closes the connection; pending commands complete with kStopped.
  void stop();

  // Joins `room` now and after every reconnect (resuming). Replaces earlier handlers.
  void join(const std::string& room, RoomHandlers handlers);

  // Sends any command (request_id is assigned; op_id too, for commands that append, when empty).
  void send(huddle::v1::ClientFrame frame, ResultHandler done);
  [[nodiscard]] std::future<CommandResult> send(huddle::v1::ClientFrame frame);

  // Typed commands, one per protocol command (docs/PROTOCOL.md, section 4 and "The board").
  // Each returns the server's reply; the ids of created things are the reply's seq().
  using Future = std::future<CommandResult>;
  using Id = std::uint64_t;
  Future list_rooms();
  Future create_room(const std::string& room, const std::string& title = "",
                     const std::string& goal = "");
  Future leave(const std::string& room);
  Future history(const std::string& room, Id before_seq = 0, std::uint32_t limit = 50);
  Future mark_read(const std::string& room, Id seq);
  Future post_chat(const std::string& room, const std::string& text);
  Future set_goal(const std::string& room, const std::string& objective,
                  const std::string& success_criteria = "");
  Future set_role(const std::string& room, const std::string& member_id, huddle::v1::Role role);
  Future set_phase(const std::string& room, huddle::v1::Phase phase,
                   std::uint32_t timer_minutes = 0, std::int64_t deadline_unix_ms = 0);
  Future set_voting(const std::string& room, std::uint32_t budget, std::uint32_t per_idea_cap = 0);
  Future set_hide_ideas(const std::string& room, bool hide);
  Future reveal_ideas(const std::string& room);
  Future post_idea(const std::string& room, const std::string& text,
                   const std::vector<std::string>& tags = {});
  Future edit_idea(const std::string& room, Id idea, const std::string& text,
                   const std::vector<std::string>& tags = {});
  Future delete_idea(const std::string& room, Id idea);
  Future move_idea(const std::string& room, Id idea, Id group);
  Future create_group(const std::string& room, const std::string& name);
  Future rename_group(const std::string& room, Id group, const std::string& name);
  Future merge_groups(const std::string& room, Id from_group, Id into_group);
  Future delete_group(const std::string& room, Id group);
  Future post_comment(const std::string& room, Id idea, const std::string& text);
  Future delete_comment(const std::string& room, Id idea, Id comment);
  Future react(const std::string& room, Id idea, huddle::v1::Reaction reaction,
               bool remove = false);
  Future vote(const std::string& room, Id idea);
  Future unvote(const std::string& room, Id idea);
  Future create_action(const std::string& room, const std::string& title,
                       const std::string& owner_id, const std::string& due_date = "", Id idea = 0);
  Future update_action(const std::string& room, Id action, const std::string& title,
                       const std::string& owner_id, const std::string& due_date = "");
  Future set_action_status(const std::string& room, Id action, huddle::v1::ActionStatus status);
  Future export_board(const std::string& room, huddle::v1::ExportFormat format);

  // A copy of the room's mirror (empty snapshot before the first board).
  [[nodiscard]] std::future<huddle::v1::BoardSnapshot> board(const std::string& room);
  // The member id in use (empty before the first hello), and whether a connection is up.
  [[nodiscard]] std::string member_id() const;
  [[nodiscard]] bool connected() const;
  // Protocol errors seen (undecodable or oversized server messages), for tests and logs.
  [[nodiscard]] std::vector<std::string> errors() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace huddle
