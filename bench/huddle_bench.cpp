// huddle-bench: load generator for Huddle (and, in --mode broadcast, for the peer broadcast
// servers in bench/peers/). One process, one I/O thread for all connections; every latency is
// measured with one steady clock (publisher and receivers live in this process).
//
//   huddle-bench fanout --rooms R --members M --publishers P --messages N --size S [--rate PER_S]
//                       [--anonymous]  (anonymous rooms: every chat event has two visibility
//                       classes)  [--slow-members K]  (K members per room never read: W-slow)
//   huddle-bench post   --publishers P --messages N [--durability LABEL]
//   huddle-bench join   --ideas K --members M [--snapshot-ideas N]  (the newest N in the
//                       snapshot, the rest paged in with GetIdeas)
//   huddle-bench resume --missed N
//   huddle-bench idle   --connections C
//   huddle-bench soak   --connections C --rooms R --duration-s S [--kill-at-s T --server-cmd CMD]
//                       (long run: RSS, fds, p99 drift, acked-event loss; see bench/soak.cpp)
// Common: --url ws://HOST:PORT/ws  --server-pid PID  --mode huddle|broadcast  --timeout SECONDS
//         --label TEXT (added to the JSON line)
// Output: a human table, then one JSON line (prefix "JSON ").
#include "bench/bench_common.hpp"

int main(int argc, char** argv) {
  using namespace huddle::bench;
  try {
    raise_fd_limit();
    auto args = parse(argc, argv);
    Result r;
    if (args.scenario == "fanout") {
      r = fanout(args);
    } else if (args.scenario == "post") {
      r = post(args);
    } else if (args.scenario == "join") {
      r = join_storm(args);
    } else if (args.scenario == "resume") {
      r = resume(args);
    } else if (args.scenario == "idle") {
      r = idle(args);
    } else if (args.scenario == "soak") {
      r = soak(args);
    } else {
      throw std::invalid_argument("unknown scenario " + args.scenario);
    }
    std::cout << "huddle-bench " << args.scenario << " (" << args.mode << ")\n";
    print(args, r);
    return r.fields["complete"] == "0" ? 3 : 0;
  } catch (const std::exception& e) {
    std::cerr << "huddle-bench: " << e.what() << "\n";
    return 1;
  }
}
