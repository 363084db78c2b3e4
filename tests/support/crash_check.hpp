// The crash check (invariant 3) shared by the tests that kill, fill or corrupt a server's store:
// connections posting chat lines whose acks are recorded, and the check that afterwards every
// acked line is in the room exactly once, at its acked seq, on a gap-free prev_seq chain.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "huddle/v1/event.pb.h"
#include "tests/support/test_client.hpp"

namespace huddle::testing {

// Pages backwards with GetHistory from `before` (0 = head) until the page reaches `stop_after`
// (exclusive); returns the events in ascending order. Throws if a page fails.
std::vector<huddle::v1::Event> history_after(TestClient& c, const std::string& room,
                                             std::uint64_t stop_after, std::uint64_t before = 0);

// Asserts that `events` chain by prev_seq from `prev` with no gap.
void expect_chain_from(const std::vector<huddle::v1::Event>& events, std::uint64_t prev);

// `connections` clients (members "<prefix><i>") join `room` and each posts up to
// `per_connection` chat lines "<prefix><i>-<m>" (op id = the text), one at a time, pausing
// `pause_us` between posts. Acked lines are recorded with their seq; error replies are counted
// by code; a client whose server dies stops.
class PostingLoad {
 public:
  PostingLoad(std::uint16_t port, std::string room, std::string prefix, int connections,
              int per_connection = 2000, int pause_us = 0);
  ~PostingLoad();
  PostingLoad(const PostingLoad&) = delete;
  PostingLoad& operator=(const PostingLoad&) = delete;
  PostingLoad(PostingLoad&&) = delete;
  PostingLoad& operator=(PostingLoad&&) = delete;

  // Stops posting and waits for the writers (a post in flight gets its reply, or its server
  // died).
  void stop();
  [[nodiscard]] std::map<std::string, std::uint64_t> acked() const;  // text -> seq
  [[nodiscard]] std::size_t acked_count() const;
  [[nodiscard]] std::size_t errors(huddle::v1::ErrorCode code) const;
  // Every line that may have been sent (acked or not).
  [[nodiscard]] const std::set<std::string>& sent() const { return sent_; }

 private:
  std::vector<std::unique_ptr<TestClient>> clients_;
  std::vector<std::thread> writers_;
  std::set<std::string> sent_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> acked_;           // Guarded by mu_.
  std::map<huddle::v1::ErrorCode, std::size_t> errors_;  // Guarded by mu_.
};

// Reads the whole of `room` from the server on `port` and asserts the crash check: a prev_seq
// chain from 0 with no gap; every chat line there at most once and only lines that were `sent`;
// every `acked` line there at its acked seq. Returns the room's events.
std::vector<huddle::v1::Event> expect_acked_present_once(
    std::uint16_t port, const std::string& room, const std::map<std::string, std::uint64_t>& acked,
    const std::set<std::string>& sent);

}  // namespace huddle::testing
