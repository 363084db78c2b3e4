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
// - ws:// and wss:// (TLS 1.2+, the server's certificate and host name verified by default).
// - With a token (--auth jwt servers), it says hello with the current token on every connect,
//   refreshes it when the server says it is expiring, and stops (reports a FatalError, does not
//   reconnect) when the server refuses it: retrying a refused token cannot help.
// - RATE_LIMITED replies are retried after the server's retry_after_ms with the same op id.
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
  kFatal,      // The Client stopped on a fatal error (Client::fatal_error(): token, certificate).
};

// Why the Client stopped connecting on its own. Reconnecting could not help, so it does not:
// pending commands complete with ClientError::kFatal and start() must be called again (for
// example with a new token).
enum class FatalError {
  kNone = 0,
  kUnauthenticated,  // The server refused the token (UNAUTHENTICATED hello, close 4001).
  kTokenExpired,     // The token had expired (at hello, or close 4001 with no fresh token).
  kTlsVerification,  // The server's certificate is not trusted (see ca_file) or not for the host.
};

struct Failure {
  FatalError error = FatalError::kNone;
  std::string message;  // One line, e.g. "authentication failed (token expired)".
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
  // The server said nothing changed and the same command (same op id) may be sent again:
  // STORAGE_UNAVAILABLE, OVERLOADED, STORAGE_FULL. (RATE_LIMITED is retried by the Client.)
  [[nodiscard]] bool retryable() const noexcept { return reply.error().retryable(); }
};

struct ClientOptions {
  // ws://HOST[:PORT][/PATH] or wss://HOST[:PORT][/PATH] (default ports 80 and 443, path /ws).
  std::string url = "ws://127.0.0.1:8080/ws";
  // Open auth: shown to others ("guest" when empty). With a token: empty means the token's name.
  std::string display_name;
  std::string member_id;  // Empty: the server assigns one on the first hello; it is kept after.
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds reconnect_min{100};  // Backoff doubles up to max, with +-50% jitter.
  std::chrono::milliseconds reconnect_max{5'000};
  std::size_t max_queued_commands = 10'000;
  std::size_t max_message_bytes = 8 * 1024 * 1024;  // A larger server message is an error.
  // Commands sent and not yet answered; later ones wait (0: no limit). Keeps a flush of the
  // offline queue under the server's rate-limit burst (docs/PROTOCOL.md section 12).
  std::size_t max_in_flight = 32;
  // After close 4029 (rate limited), the next reconnect waits at least this long.
  std::chrono::milliseconds rate_limited_reconnect{5'000};

  // wss:// only. TLS 1.2 or newer; the server's certificate must chain to a trusted CA and name
  // the URL's host (DNS name or IP address).
  std::string ca_file;     // PEM file of the CAs to trust; empty: the system's CA store.
  bool tls_verify = true;  // false: accept any certificate. For tests only: no security.

  // Authentication (servers with --auth jwt, docs/PROTOCOL.md section 19).
  // The token sent in hello. Ignored when token_provider is set.
  std::string token;
  // Called for the token before every (re)connect, and when the server says the connection's
  // token is expiring (the Client then sends RefreshToken). Runs on the Client's strand: keep it
  // quick. An empty string keeps the current token.
  std::function<std::string()> token_provider;
  // Called when the server says the token expires at `expires_unix_ms`; returns a fresh token
  // (sent as RefreshToken) or "" (keep the current one; the server closes the connection at
  // expiry, and the Client then reconnects with token_provider's token or stops with
  // kTokenExpired). Default: token_provider. On the strand. Client::refresh_token() works too.
  std::function<std::string(std::int64_t expires_unix_ms)> on_token_expiring;
  // The Client stopped on a fatal error (it does not reconnect). On the strand.
  std::function<void(const Failure&)> on_fatal;
};

// createRoom's settings (docs/PROTOCOL.md section 4). All are fixed at creation except the
// title, goal and hide_ideas.
struct RoomSettings {
  std::string title;  // Default: the room id.
  std::string goal;
  bool anonymous = false;
  bool hide_ideas = false;
  bool private_room = false;  // Only the roster, token grants and invite holders may join.
};

// An invite link token (createInvite): pass it to join() (or the web client's ?invite=).
struct Invite {
  std::string invite;  // Empty if the command failed (see result).
  std::int64_t expires_unix_ms = 0;
  CommandResult result;
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
  // The server refused the join (PERMISSION_DENIED: a private room without access or with a
  // bad invite; ROOM_NOT_FOUND; ...). The Client tries again after each reconnect.
  std::function<void(const CommandResult&)> on_join_error;
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
  // `invite` (from create_invite) admits to a private room; it is sent until a join succeeds
  // (the member is then in the room's roster and needs it no more).
  void join(const std::string& room, RoomHandlers handlers, std::string invite = {});

  // Replaces the token: used for later (re)connects, and sent now as RefreshToken if connected
  // (its reply is returned; a connection without a token yet gets it at the next hello).
  [[nodiscard]] std::future<CommandResult> refresh_token(std::string token);

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
  Future create_room_with(const std::string& room, const RoomSettings& settings);
  // Owner or facilitator of a joined room: an invite for `role` (PARTICIPANT when unspecified),
  // valid for `ttl` (0: the server's default, 7 days; 60 s .. 30 days).
  std::future<Invite> create_invite(const std::string& room,
                                    huddle::v1::Role role = huddle::v1::ROLE_PARTICIPANT,
                                    std::chrono::seconds ttl = std::chrono::seconds(0));
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
  // Why the Client stopped on its own (FatalError::kNone while it runs or after stop()).
  [[nodiscard]] Failure fatal_error() const;
  // Connection attempts made since construction (TCP connects started), for tests and logs.
  [[nodiscard]] std::uint64_t connection_attempts() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace huddle
