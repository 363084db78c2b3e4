#include "server/room/resume.hpp"

namespace huddle::room {

namespace v1 = huddle::v1;

ResumeDecision resolve_resume(const ResumeRequest& request, std::uint64_t room_epoch,
                              std::uint64_t head_seq, const ResumeTail& tail,
                              const ResumeLimits& limits) {
  ResumeDecision d;
  d.mode = v1::RESUME_MODE_SNAPSHOT;
  d.first = tail.size();
  if (request.has_resume) {
    if (request.epoch != room_epoch) {
      d.mode = v1::RESUME_MODE_RESET;
    } else if (request.last_seq == head_seq) {
      d.mode = v1::RESUME_MODE_EXACT;
    } else if (request.last_seq > head_seq) {
      d.mode = v1::RESUME_MODE_RESET;  // A position this store never had.
    } else {
      std::size_t found = tail.size();
      for (std::size_t i = 0; i < tail.size(); ++i) {
        if (tail.prev_seq(i) == request.last_seq) {
          found = i;
          break;
        }
      }
      const bool tail_is_complete = tail.size() > 0 && tail.prev_seq(0) == 0;
      if (found == tail.size()) {
        // Older than what we hold in memory, or (when we hold everything) not a real position.
        d.mode = tail_is_complete ? v1::RESUME_MODE_RESET : v1::RESUME_MODE_SNAPSHOT;
      } else {
        d.first = found;
        std::size_t bytes = 0;
        for (auto i = found; i < tail.size(); ++i) {
          bytes += tail.byte_size(i);
        }
        d.mode = (tail.size() - found <= limits.max_events && bytes <= limits.max_bytes)
                     ? v1::RESUME_MODE_EXACT
                     : v1::RESUME_MODE_SNAPSHOT;
      }
    }
  }
  d.from_seq = d.mode == v1::RESUME_MODE_EXACT ? request.last_seq : head_seq;
  return d;
}

}  // namespace huddle::room
