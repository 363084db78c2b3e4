// Backup under write load: `huddle-server backup` copies a running server's store; a server
// started on the copy holds exactly the source's events up to the copy point (a prefix of each
// room's log, every event acked before the backup started included), and clients that resume
// against it with the old epoch are RESET.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/store/rocksdb_event_log.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

namespace v1 = huddle::v1;

std::vector<std::string> room_events(store::EventLog& log, const std::string& room) {
  std::vector<std::string> out;
  auto events = log.read_after(RoomId(room), Seq(0), 1'000'000);
  EXPECT_TRUE(events.has_value()) << room;
  if (events) {
    for (const auto& e : *events) {
      out.push_back(e.SerializeAsString());
    }
  }
  return out;
}

TEST(Backup, UnderWriteLoadTheCopyIsAPrefixOfTheSourceAndResumesGetReset) {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  const std::string copy = (dir.path() / "copy").string();
  const std::vector<std::string> rooms = {"east", "west"};
  std::uint64_t source_epoch = 0;
  std::vector<std::uint64_t> acked_before(rooms.size(), 0);
  std::string output;
  {
    ChildServer server(data, {"--durability", "wal"});
    TestClient setup(server.port());
    source_epoch = setup.hello("Ann", "ann").epoch();
    for (const auto& r : rooms) {
      ASSERT_FALSE(setup.create_room(r, r).has_error());
    }
    // One writer per room posts as fast as acks come back, during the whole backup.
    std::atomic<bool> stop{false};
    std::vector<std::atomic<std::uint64_t>> acked(rooms.size());
    std::vector<std::thread> writers;
    for (std::size_t i = 0; i < rooms.size(); ++i) {
      writers.emplace_back([&, i] {
        TestClient c(server.port());
        c.hello("Writer " + std::to_string(i), "w" + std::to_string(i));
        c.join(rooms[i]);
        for (int n = 0; !stop.load(); ++n) {
          const auto r = c.post_chat(rooms[i], "line " + std::to_string(n));
          if (r.has_error()) {
            ADD_FAILURE() << r.error().message();
            return;
          }
          acked[i].store(r.seq());
        }
      });
    }
    while (acked[0].load() < 200 || acked[1].load() < 200) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (std::size_t i = 0; i < rooms.size(); ++i) {
      acked_before[i] = acked[i].load();
    }
    const auto run = run_shell(shell_quote(HUDDLE_SERVER_BINARY) + " backup --data-dir " +
                               shell_quote(data) + " --to " + shell_quote(copy));
    output = run.out;
    // The writers went on during the copy.
    const std::uint64_t after_backup = acked[0].load();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop.store(true);
    for (auto& w : writers) {
      w.join();
    }
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_GT(acked[0].load(), after_backup);
    EXPECT_NE(output.find("rooms=2"), std::string::npos) << output;
    EXPECT_EQ(server.terminate(), 0);
  }

  // Compare the two stores directly.
  auto source = store::RocksDbEventLog::open({.path = data});
  ASSERT_TRUE(source.has_value());
  std::uint64_t copy_epoch = 0;
  {
    auto restored = store::RocksDbEventLog::open({.path = copy});
    ASSERT_TRUE(restored.has_value());
    copy_epoch = (*restored)->epoch().value();
    EXPECT_EQ((*source)->epoch().value(), source_epoch);
    EXPECT_NE(copy_epoch, source_epoch);
    EXPECT_NE(output.find("epoch " + std::to_string(copy_epoch)), std::string::npos) << output;
    for (std::size_t i = 0; i < rooms.size(); ++i) {
      const auto src = room_events(**source, rooms[i]);
      const auto cpy = room_events(**restored, rooms[i]);
      ASSERT_GE(cpy.size(), acked_before[i]) << rooms[i] << ": acked events missing";
      ASSERT_LT(cpy.size(), src.size()) << rooms[i] << ": the writers went on after the copy";
      for (std::size_t k = 0; k < cpy.size(); ++k) {
        ASSERT_EQ(cpy[k], src[k]) << rooms[i] << " event " << k + 1;
      }
    }
  }

  // A server on the copy: a client that knew the source resumes and is RESET.
  ChildServer restored(copy);
  TestClient c(restored.port());
  EXPECT_EQ(c.hello("Ann", "ann").epoch(), copy_epoch);
  v1::ResumePosition old;
  old.set_epoch(source_epoch);
  old.set_last_seq(acked_before[0]);
  const auto join = c.join("east", old);
  EXPECT_EQ(join.mode(), v1::RESUME_MODE_RESET);
  EXPECT_EQ(join.epoch(), copy_epoch);
}

TEST(Backup, RefusesAnExistingTargetAndAMissingSource) {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  { auto log = store::RocksDbEventLog::open({.path = data}); }
  const auto bin = shell_quote(HUDDLE_SERVER_BINARY);
  const auto to_self =
      run_shell(bin + " backup --data-dir " + shell_quote(data) + " --to " + shell_quote(data));
  EXPECT_EQ(to_self.status, 1);
  EXPECT_NE(to_self.out.find("not empty"), std::string::npos) << to_self.out;
  const auto missing =
      run_shell(bin + " backup --data-dir " + shell_quote((dir.path() / "none").string()) +
                " --to " + shell_quote((dir.path() / "x").string()));
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("no Huddle store"), std::string::npos) << missing.out;
  EXPECT_EQ(run_shell(bin + " backup --to /tmp/x").status, 2);
}

}  // namespace
}  // namespace huddle::testing
