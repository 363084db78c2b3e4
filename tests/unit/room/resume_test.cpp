// resolve_resume (server/room/resume.hpp), the join's EXACT / SNAPSHOT / RESET decision, case by
// case from docs/PROTOCOL.md section 8. tests/fuzz/fuzz_resume.cpp checks it against a model
// of the same text over generated rooms; Room::do_join calls it (ResumeTest.*, Resume.*).
#include "server/room/resume.hpp"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace huddle::room {
namespace {

namespace v1 = huddle::v1;

struct Ev {
  std::uint64_t seq;
  std::uint64_t prev_seq;
  std::size_t bytes = 10;
};

class Tail final : public ResumeTail {
 public:
  explicit Tail(std::vector<Ev> events) : events_(std::move(events)) {}
  std::size_t size() const override { return events_.size(); }
  std::uint64_t prev_seq(std::size_t i) const override { return events_.at(i).prev_seq; }
  std::size_t byte_size(std::size_t i) const override { return events_.at(i).bytes; }

 private:
  std::vector<Ev> events_;
};

constexpr std::uint64_t kEpoch = 7;

ResumeDecision resume(const Tail& tail, std::uint64_t head, std::uint64_t last_seq,
                      ResumeLimits limits = {}) {
  return resolve_resume({.has_resume = true, .epoch = kEpoch, .last_seq = last_seq}, kEpoch, head,
                        tail, limits);
}

// Seqs 1, 2, 4, 7 (sparse), the whole history.
const Tail kComplete({{1, 0}, {2, 1}, {4, 2}, {7, 4}});
// Seqs 12, 15, 16: older events are not in memory.
const Tail kPartial({{12, 10}, {15, 12}, {16, 15}});

TEST(ResolveResume, AFreshJoinIsASnapshotAtTheHead) {
  const auto d = resolve_resume({}, kEpoch, 7, kComplete, {});
  EXPECT_EQ(d.mode, v1::RESUME_MODE_SNAPSHOT);
  EXPECT_EQ(d.from_seq, 7U);
}

TEST(ResolveResume, AnotherEpochIsAResetEvenAtTheHead) {
  const auto d = resolve_resume({.has_resume = true, .epoch = kEpoch + 1, .last_seq = 7}, kEpoch, 7,
                                kComplete, {});
  EXPECT_EQ(d.mode, v1::RESUME_MODE_RESET);
  EXPECT_EQ(d.from_seq, 7U);
}

TEST(ResolveResume, AtTheHeadIsExactWithNothingToSend) {
  const auto d = resume(kComplete, 7, 7);
  EXPECT_EQ(d.mode, v1::RESUME_MODE_EXACT);
  EXPECT_EQ(d.from_seq, 7U);
  EXPECT_EQ(d.first, kComplete.size());
}

TEST(ResolveResume, APositionInTheChainIsExactFromTheEventAfterIt) {
  const auto d = resume(kComplete, 7, 2);
  EXPECT_EQ(d.mode, v1::RESUME_MODE_EXACT);
  EXPECT_EQ(d.from_seq, 2U);
  EXPECT_EQ(d.first, 2U);                         // Seq 4, whose prev_seq is 2.
  EXPECT_EQ(resume(kComplete, 7, 0).first, 0U);   // Before the room's first event.
  EXPECT_EQ(resume(kPartial, 16, 10).first, 0U);  // Just before the tail.
}

TEST(ResolveResume, AboveTheHeadIsAReset) {
  EXPECT_EQ(resume(kComplete, 7, 8).mode, v1::RESUME_MODE_RESET);
  EXPECT_EQ(resume(kPartial, 16, 17).mode, v1::RESUME_MODE_RESET);
}

TEST(ResolveResume, APositionAWholeHistoryNeverHadIsAReset) {
  EXPECT_EQ(resume(kComplete, 7, 3).mode, v1::RESUME_MODE_RESET);  // Between sparse seqs.
}

TEST(ResolveResume, OlderThanAPartialTailIsASnapshot) {
  const auto d = resume(kPartial, 16, 5);
  EXPECT_EQ(d.mode, v1::RESUME_MODE_SNAPSHOT);
  EXPECT_EQ(d.from_seq, 16U);
  // So is a seq inside the tail's range that is no position (sparse): the protocol's RESET is
  // only for positions missing from a history held completely.
  EXPECT_EQ(resume(kPartial, 16, 13).mode, v1::RESUME_MODE_SNAPSHOT);
}

TEST(ResolveResume, MoreMissedEventsOrBytesThanTheLimitsIsASnapshot) {
  EXPECT_EQ(resume(kComplete, 7, 1, {.max_events = 3, .max_bytes = 30}).mode,
            v1::RESUME_MODE_EXACT);
  EXPECT_EQ(resume(kComplete, 7, 1, {.max_events = 2, .max_bytes = 30}).mode,
            v1::RESUME_MODE_SNAPSHOT);
  EXPECT_EQ(resume(kComplete, 7, 1, {.max_events = 3, .max_bytes = 29}).mode,
            v1::RESUME_MODE_SNAPSHOT);
}

}  // namespace
}  // namespace huddle::room
