#include "tests/support/crash_check.hpp"

#include <chrono>
#include <exception>
#include <stdexcept>
#include <utility>

#include <gtest/gtest.h>

namespace huddle::testing {

namespace v1 = huddle::v1;

std::vector<v1::Event> history_after(TestClient& c, const std::string& room,
                                     std::uint64_t stop_after, std::uint64_t before) {
  std::vector<v1::Event> out;
  while (true) {
    v1::ClientFrame f;
    f.mutable_get_history()->set_room_id(room);
    f.mutable_get_history()->set_before_seq(before);
    f.mutable_get_history()->set_limit(200);
    auto reply = c.request(f);
    if (reply.has_error()) {
      throw std::runtime_error("history failed: " + reply.error().message());
    }
    const auto& page = reply.history();
    bool done = !page.has_more() || page.events().empty();
    for (auto it = page.events().rbegin(); it != page.events().rend(); ++it) {
      if (it->seq() <= stop_after) {
        done = true;
        break;
      }
      out.insert(out.begin(), *it);
    }
    if (done) {
      return out;
    }
    before = page.events(0).seq();
  }
}

void expect_chain_from(const std::vector<v1::Event>& events, std::uint64_t prev) {
  for (const auto& e : events) {
    ASSERT_EQ(e.prev_seq(), prev) << "gap before seq " << e.seq();
    prev = e.seq();
  }
}

PostingLoad::PostingLoad(std::uint16_t port, std::string room, std::string prefix, int connections,
                         int per_connection, int pause_us) {
  for (int i = 0; i < connections; ++i) {
    const std::string member = prefix + std::to_string(i);
    clients_.push_back(std::make_unique<TestClient>(port));
    clients_.back()->hello(member, member);
    clients_.back()->join(room);
    for (int m = 0; m < per_connection; ++m) {
      sent_.insert(member + "-" + std::to_string(m));
    }
  }
  for (int i = 0; i < connections; ++i) {
    writers_.emplace_back(
        [this, i, room, member = prefix + std::to_string(i), per_connection, pause_us] {
          for (int m = 0; m < per_connection && !stop_; ++m) {
            const auto text = member + "-" + std::to_string(m);
            try {
              auto reply = clients_[static_cast<std::size_t>(i)]->post_chat(room, text, text);
              const std::lock_guard lock(mu_);
              if (reply.has_error()) {
                ++errors_[reply.error().code()];
              } else {
                acked_[text] = reply.seq();
              }
            } catch (const std::exception&) {
              return;  // The server died under us (or stopped answering).
            }
            if (pause_us > 0) {
              std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
            }
          }
        });
  }
}

PostingLoad::~PostingLoad() {
  stop();
}

void PostingLoad::stop() {
  stop_ = true;
  for (auto& w : writers_) {
    if (w.joinable()) {
      w.join();
    }
  }
}

std::map<std::string, std::uint64_t> PostingLoad::acked() const {
  const std::lock_guard lock(mu_);
  return acked_;
}

std::size_t PostingLoad::acked_count() const {
  const std::lock_guard lock(mu_);
  return acked_.size();
}

std::size_t PostingLoad::errors(v1::ErrorCode code) const {
  const std::lock_guard lock(mu_);
  auto it = errors_.find(code);
  return it == errors_.end() ? 0 : it->second;
}

std::vector<v1::Event> expect_acked_present_once(std::uint16_t port, const std::string& room,
                                                 const std::map<std::string, std::uint64_t>& acked,
                                                 const std::set<std::string>& sent) {
  TestClient reader(port);
  reader.hello("crash-check-reader", "crash-check-reader");
  reader.join(room);
  auto all = history_after(reader, room, 0);
  expect_chain_from(all, 0);
  std::map<std::string, std::uint64_t> stored;
  for (const auto& e : all) {
    if (e.has_chat_posted()) {
      EXPECT_TRUE(stored.emplace(e.chat_posted().text(), e.seq()).second)
          << "stored twice: " << e.chat_posted().text();
      EXPECT_TRUE(sent.contains(e.chat_posted().text()))
          << "never sent: " << e.chat_posted().text();
    }
  }
  std::size_t lost = 0;
  for (const auto& [text, seq] : acked) {
    auto it = stored.find(text);
    if (it == stored.end()) {
      if (++lost <= 5) {
        ADD_FAILURE() << "acked but lost: " << text;
      }
      continue;
    }
    EXPECT_EQ(it->second, seq) << text;
  }
  EXPECT_EQ(lost, 0U) << "acked events lost";
  return all;
}

}  // namespace huddle::testing
