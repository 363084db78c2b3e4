// Integration: the server on two shard threads, several rooms owned by each shard, members whose
// sessions live on either shard posting from their own threads at once. What crosses shards is
// every command (session shard -> room shard) and every event (room shard -> the members' shards),
// so this is the test the TSan build (label `concurrency`) leans on for the server's threading.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/util/shards.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

namespace v1 = huddle::v1;

constexpr std::size_t kShards = 2;
constexpr int kRoomsPerShard = 2;
constexpr int kClients = 6;   // Accepted round-robin: three sessions on each shard.
constexpr int kPerRoom = 40;  // Chats each client posts to each room.

// Room ids, kRoomsPerShard owned by each shard (the server's own ShardSet::shard_for).
std::vector<std::string> rooms_on_every_shard() {
  const ShardSet shards(kShards);  // Never started: only its shard_for().
  std::map<std::size_t, int> owned;
  std::vector<std::string> rooms;
  for (int i = 0; rooms.size() < kShards * kRoomsPerShard; ++i) {
    auto id = "threads-" + std::to_string(i);
    if (owned[shards.shard_for(id)]++ < kRoomsPerShard) {
      rooms.push_back(std::move(id));
    }
  }
  return rooms;
}

std::string chat_text(int client, std::size_t room, int i) {
  return "c" + std::to_string(client) + "-r" + std::to_string(room) + "-m" + std::to_string(i);
}

// Chats in `events`, by room.
std::map<std::string, std::vector<const v1::Event*>> chats_by_room(
    const std::vector<v1::Event>& events) {
  std::map<std::string, std::vector<const v1::Event*>> out;
  for (const auto& e : events) {
    if (e.has_chat_posted()) {
      out[e.room_id()].push_back(&e);
    }
  }
  return out;
}

std::size_t chat_count(const std::vector<v1::Event>& events) {
  std::size_t n = 0;
  for (const auto& e : events) {
    n += e.has_chat_posted() ? 1 : 0;
  }
  return n;
}

TEST(Threads, ConcurrentMembersOfRoomsOnBothShardsSeeEveryEventOnceInOrder) {
  auto options = TestServer::default_options();
  options.threads = kShards;
  TestServer server(options);
  const auto rooms = rooms_on_every_shard();

  std::vector<std::unique_ptr<TestClient>> clients;
  std::vector<std::map<std::string, std::uint64_t>> joined_at(kClients);
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::make_unique<TestClient>(server.port()));
    const auto id = "member" + std::to_string(c);
    clients.back()->hello(id, id);
  }
  for (const auto& room : rooms) {
    ASSERT_FALSE(clients[0]->create_room(room).has_error()) << room;
  }
  for (int c = 0; c < kClients; ++c) {
    for (const auto& room : rooms) {
      joined_at[c][room] = clients[c]->join(room).from_seq();
    }
  }

  // Every client posts to every room from its own thread, interleaving the rooms, all at once.
  std::vector<std::thread> threads;
  std::vector<int> acked(kClients, 0);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      std::vector<std::uint64_t> ids;
      for (int i = 0; i < kPerRoom; ++i) {
        for (std::size_t r = 0; r < rooms.size(); ++r) {
          ids.push_back(clients[c]->post_chat_async(rooms[r], chat_text(c, r, i)));
        }
      }
      for (const auto id : ids) {
        const auto reply = clients[c]->wait_reply(id);
        acked[c] += !reply.has_error() && reply.seq() > 0 ? 1 : 0;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const auto per_room = static_cast<std::size_t>(kClients * kPerRoom);
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(acked[c], kPerRoom * static_cast<int>(rooms.size())) << "client " << c;
  }

  std::map<std::string, std::vector<std::uint64_t>> reference;  // Room -> chat seqs.
  for (int c = 0; c < kClients; ++c) {
    auto& client = *clients[c];
    auto events = client.events();
    while (chat_count(events) < per_room * rooms.size()) {
      client.wait_events(events.size() + 1, std::chrono::seconds(60));
      events = client.events();
    }
    const auto chats = chats_by_room(events);
    ASSERT_EQ(chats.size(), rooms.size()) << "client " << c;
    for (std::size_t r = 0; r < rooms.size(); ++r) {
      const auto& room = rooms[r];
      // Invariant 1: the room's events reach this member once each, chained by prev_seq.
      std::uint64_t prev = joined_at[c][room];
      std::set<std::uint64_t> seen;
      for (const auto& e : events) {
        if (e.room_id() != room) {
          continue;
        }
        ASSERT_EQ(e.prev_seq(), prev) << "client " << c << " room " << room << " seq " << e.seq();
        ASSERT_TRUE(seen.insert(e.seq()).second) << "duplicate seq " << e.seq();
        prev = e.seq();
      }
      // Each chat exactly once, and each poster's chats in the order it sent them.
      const auto& room_chats = chats.at(room);
      ASSERT_EQ(room_chats.size(), per_room) << "client " << c << " room " << room;
      std::vector<int> next(kClients, 0);
      std::vector<std::uint64_t> seqs;
      for (const auto* e : room_chats) {
        const auto& text = e->chat_posted().text();
        bool matched = false;
        for (int from = 0; from < kClients && !matched; ++from) {
          if (next[from] < kPerRoom && text == chat_text(from, r, next[from])) {
            ++next[from];
            matched = true;
          }
        }
        ASSERT_TRUE(matched) << "client " << c << " room " << room << ": unexpected or "
                             << "out-of-order chat " << text;
        seqs.push_back(e->seq());
      }
      // Every member sees the same order.
      if (!reference.contains(room)) {
        reference[room] = seqs;
      } else {
        EXPECT_EQ(seqs, reference[room]) << "client " << c << " room " << room;
      }
    }
  }
}

}  // namespace
}  // namespace huddle::testing
