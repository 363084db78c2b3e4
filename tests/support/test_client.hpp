// TestClient: a real WebSocket client (Beast) for tests and tools, speaking either subprotocol.
// Each client runs its own I/O thread; the test thread calls the blocking helpers below, which
// wait on events with a deadline (never sleep). Replies are matched by request_id; events are
// collected in arrival order, EventBatch frames flattened.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "huddle/v1/frame.pb.h"
#include "server/codec/frame_codec.hpp"

namespace huddle::testing {

using namespace std::chrono_literals;

class TestClient {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    codec::Encoding encoding = codec::Encoding::kProto;
    std::string subprotocol;                  // Empty: the one matching `encoding`.
    std::chrono::milliseconds timeout = 10s;  // Default deadline of the blocking helpers.
    bool record_raw = false;  // Keep every message for raw_messages() (off: load tests).
  };

  explicit TestClient(Options options);
  TestClient(std::uint16_t port, codec::Encoding encoding = codec::Encoding::kProto);
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  TestClient(TestClient&&) = delete;
  TestClient& operator=(TestClient&&) = delete;
  ~TestClient();

  // Sends a frame; assigns a request_id if it has none. Returns the request id.
  std::uint64_t send(huddle::v1::ClientFrame frame);
  // Sends raw bytes as a text or binary message.
  void send_raw(std::string bytes, bool text);
  // Waits for the reply to `request_id`. Throws std::runtime_error on timeout.
  huddle::v1::Reply wait_reply(std::uint64_t request_id);
  huddle::v1::Reply request(huddle::v1::ClientFrame frame) {
    return wait_reply(send(std::move(frame)));
  }

  // Conveniences that throw on an error reply.
  huddle::v1::HelloResult hello(const std::string& name, const std::string& member_id = "");
  huddle::v1::Reply create_room(const std::string& room, const std::string& title = "");
  huddle::v1::JoinResult join(const std::string& room,
                              std::optional<huddle::v1::ResumePosition> resume = std::nullopt);
  // Posts a chat line and waits for its reply (returns it: seq or error).
  huddle::v1::Reply post_chat(const std::string& room, const std::string& text,
                              const std::string& op_id = "");
  // Posts without waiting; returns the request id.
  std::uint64_t post_chat_async(const std::string& room, const std::string& text,
                                const std::string& op_id = "");

  // Waits until at least `n` events have arrived (all rooms). Throws on timeout.
  void wait_events(std::size_t n, std::optional<std::chrono::milliseconds> timeout = {});
  // Waits until an event with seq >= `seq` has arrived. Throws on timeout.
  void wait_seq(std::uint64_t seq, std::optional<std::chrono::milliseconds> timeout = {});
  [[nodiscard]] std::vector<huddle::v1::Event> events() const;
  [[nodiscard]] std::size_t event_count() const;
  // Non-reply, non-event frames (snapshot, presence, typing), in arrival order.
  [[nodiscard]] std::vector<huddle::v1::ServerFrame> others() const;
  // Waits for a frame of another kind matching `pred`.
  huddle::v1::ServerFrame wait_other(
      const std::function<bool(const huddle::v1::ServerFrame&)>& pred);
  // Error replies that carried request_id 0 (undecodable frames).
  [[nodiscard]] std::size_t anonymous_errors() const;
  // Every message received, verbatim and in arrival order (whatever its kind); empty unless
  // Options::record_raw.
  [[nodiscard]] std::vector<std::string> raw_messages() const;

  // Waits for the connection to close; returns the close code the server sent (0 if the
  // connection dropped without a close frame). Throws on timeout.
  std::uint16_t wait_closed(std::optional<std::chrono::milliseconds> timeout = {});
  [[nodiscard]] bool closed() const;
  // Drops the TCP connection without a close handshake (an abrupt disconnect).
  void drop();
  // Sends a close frame with 1000 and waits for the server's.
  void close();

  // Stops reading from the socket (to play a slow consumer), and starts again.
  void pause_reading();
  void resume_reading();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Options options_;
  std::uint64_t next_request_id_ = 1;
};

}  // namespace huddle::testing
