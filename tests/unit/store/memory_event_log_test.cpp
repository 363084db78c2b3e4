// MemoryEventLog specifics; the shared contract is in event_log_test.cpp.
#include "server/store/memory_event_log.hpp"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace huddle::store {
namespace {

using boost::system::error_code;

std::vector<AppendRecord> create_room(const std::string& room) {
  huddle::v1::Event e;
  e.set_room_id(room);
  e.set_seq(1);
  e.set_prev_seq(0);
  huddle::storage::v1::RoomMeta meta;
  meta.mutable_info()->set_room_id(room);
  std::vector<AppendRecord> records;
  records.push_back(AppendRecord{.room = RoomId(room),
                                 .seq = Seq(1),
                                 .prev_seq = Seq(0),
                                 .event_bytes = e.SerializeAsString(),
                                 .dedup = std::nullopt,
                                 .create_room = meta});
  return records;
}

TEST(MemoryEventLog, UsesTheGivenEpoch) {
  MemoryEventLog log(Epoch(42));
  EXPECT_EQ(log.epoch(), Epoch(42));
}

TEST(MemoryEventLog, DefaultEpochsAreRandomAndNonzero) {
  MemoryEventLog a;
  MemoryEventLog b;
  EXPECT_NE(a.epoch(), Epoch(0));
  EXPECT_NE(a.epoch(), b.epoch());
}

TEST(MemoryEventLog, CallbackRunsInlineOnTheCallingThreadBeforeAppendReturns) {
  MemoryEventLog log;
  bool called = false;
  std::thread::id where;
  log.append(create_room("r"), [&](error_code ec) {
    EXPECT_FALSE(ec);
    called = true;
    where = std::this_thread::get_id();
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(where, std::this_thread::get_id());
}

TEST(MemoryEventLog, FailNextAppendsFailsExactlyThatManyCallsAndWritesNothing) {
  MemoryEventLog log;
  log.fail_next_appends(2);
  std::vector<error_code> results;
  for (int i = 0; i < 3; ++i) {
    log.append(create_room("r"), [&](error_code ec) { results.push_back(ec); });
  }
  ASSERT_EQ(results.size(), 3U);
  EXPECT_EQ(results[0], Errc::kStorageUnavailable);
  EXPECT_EQ(results[1], Errc::kStorageUnavailable);
  EXPECT_FALSE(results[2]);  // Only the third one reached the log: no kRoomExists.
  EXPECT_EQ(*log.head(RoomId("r")), Seq(1));
}

}  // namespace
}  // namespace huddle::store
