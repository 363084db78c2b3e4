// huddle-bench soak (#7): a long run of a realistic mix, checked for leaks, drift and loss.
// The members themselves are in bench/soak_driver.hpp.
//
//   huddle-bench soak --connections 2000 --rooms 200 --duration-s 3600
//     [--post-fraction 0.05] [--post-interval-s 3] [--reconnect-fraction-per-min 0.20]
//     [--server-pid PID | --server-cmd "huddle-server --listen 127.0.0.1:{port} ..."]
//     [--kill-at-s T] [--server-log FILE] [--sample-s 10] [--warmup-s 60] [--p99-floor-ms 2]
//     [--pause-at-s T --pause-ms N]
//
// Members are spread evenly over the rooms; `post-fraction` of them post a chat line (with an
// op id) every `post-interval-s` (jittered), and `reconnect-fraction-per-min` of all connections
// per minute close (alternately a WebSocket close and a plain TCP close) and come back with
// hello + join {resume {epoch, last_seq}}. Every member checks its stream by prev_seq; a SNAPSHOT
// resume is backfilled with getHistory. With --server-cmd the driver starts the server itself
// ({port} becomes a free port), and --kill-at-s sends it SIGKILL then and starts it again on the
// same port and data directory: members and posters ride through with resume and op-id retries.
// --pause-at-s T --pause-ms N stops the server (SIGSTOP) at T for N ms: a stall of the machine.
//
// Every `sample-s` it reads the server's VmRSS and open fds (/proc/PID). At the end it stops
// posting, waits until every member has caught up, then checks (1) RSS slope after warm-up (least
// squares per server process, samples from warm-up on) < 1 MiB/min, (2) fds flat: the last sample
// within max(20, 2%) of the first after warm-up, (3) the steady p99 post-to-receive latency (the
// second-lowest of its six 10-second windows' p99s, bench/soak_criteria.hpp) of one of the last
// three minutes <= max(1.2 x minute 2's, minute 2's + p99-floor-ms), (4) 0 acked events lost: every
// acked post is in the stream of every member of its room and in the room's history (read by a
// fresh checker connection), and no op id was appended twice, (5) gap-free streams (no gap,
// duplicate or RESET). Prints a table per minute and the JSON line; "complete" is 1 iff all pass.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>

#include "bench/soak_driver.hpp"

#include <dirent.h>
#include <sys/prctl.h>
#include <sys/wait.h>

namespace huddle::bench {

namespace {

using namespace soak_sim;  // NOLINT(google-build-using-namespace): this file is its only user.

// ---- the server process ----

int count_fds(int pid) {
  int n = 0;
  if (DIR* d = opendir(fmt::format("/proc/{}/fd", pid).c_str())) {
    while (const dirent* e = readdir(d)) {
      n += e->d_name[0] != '.' ? 1 : 0;
    }
    closedir(d);
  }
  return n;
}

// Starts `sh -c "exec CMD"` with stdout and stderr appended to `log` (if set). The child closes
// every inherited descriptor (our client sockets) and dies with us.
pid_t spawn_server(const std::string& cmd, const std::string& log) {
  const std::string script = "exec " + cmd;
  const long max_fd = sysconf(_SC_OPEN_MAX);
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int out = log.empty() ? -1 : open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    for (long fd = 3; fd < max_fd; ++fd) {
      close(static_cast<int>(fd));
    }
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  return pid;
}

void stop_server(pid_t pid, int sig) {
  kill(pid, sig);
  for (int i = 0; i < 300; ++i) {  // 30 s, then SIGKILL.
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// The setup connection, retried while the server starts (it answers 503 until its store opens).
std::shared_ptr<LoadConn> setup_conn(asio::io_context& ioc, const Args& a, const std::string& who,
                                     pid_t pid) {
  for (int i = 0;; ++i) {
    try {
      return huddle_member(ioc, a, who);
    } catch (const std::exception& e) {
      if (i >= 300 || (pid > 0 && waitpid(pid, nullptr, WNOHANG) == pid)) {
        throw std::runtime_error(std::string("server not reachable: ") + e.what());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

struct Sample {
  double t_min = 0;  // Since t0, minutes.
  int incarnation = 0;
  double rss_mib = 0;
  int fds = 0;
};

// Least-squares slope, MiB/min; NaN with fewer than 3 samples.
double slope(const std::vector<Sample>& s) {
  if (s.size() < 3) {
    return std::nan("");
  }
  double mx = 0, my = 0;
  for (const auto& x : s) {
    mx += x.t_min;
    my += x.rss_mib;
  }
  mx /= static_cast<double>(s.size());
  my /= static_cast<double>(s.size());
  double num = 0, den = 0;
  for (const auto& x : s) {
    num += (x.t_min - mx) * (x.rss_mib - my);
    den += (x.t_min - mx) * (x.t_min - mx);
  }
  return den > 0 ? num / den : std::nan("");
}

struct HistoryCheck {
  std::int64_t lost = 0, duplicate_appends = 0, chain_breaks = 0, events = 0;
};

// A fresh connection reads each room's whole history and looks for every acked post by seq and op.
HistoryCheck check_history(const Args& a, const std::string& run, const Driver& d) {
  IoThread io;
  auto c = setup_conn(io.ioc, a, "soak-checker-" + run, 0);
  HistoryCheck out;
  std::vector<std::vector<const Acked*>> by_room(static_cast<std::size_t>(a.rooms));
  for (const auto& x : d.acked()) {
    by_room[static_cast<std::size_t>(x.room)].push_back(&x);
  }
  std::uint64_t rid = 10;
  for (int r = 0; r < a.rooms; ++r) {
    const auto room = d.room_name(r);
    join_sync(*c, room);
    std::map<std::uint64_t, v1::Event> events;
    std::uint64_t before = 0;
    while (true) {
      v1::ClientFrame h;
      h.mutable_get_history()->set_room_id(room);
      h.mutable_get_history()->set_before_seq(before);
      h.mutable_get_history()->set_limit(200);
      auto reply = request_sync(*c, h, rid++);
      if (reply.has_error()) {
        throw std::runtime_error("history failed: " + reply.error().message());
      }
      for (const auto& e : reply.history().events()) {
        events[e.seq()] = e;
      }
      if (!reply.history().has_more() || reply.history().events().empty()) {
        break;
      }
      before = reply.history().events(0).seq();
    }
    std::uint64_t prev = 0;
    std::map<std::string, int> ops;
    for (const auto& [seq, e] : events) {
      out.chain_breaks += e.prev_seq() != prev ? 1 : 0;
      prev = seq;
      const auto& text = e.chat_posted().text();
      if (e.has_chat_posted() && text.size() > 20) {
        ++ops[text.substr(20, text.find('|', 20) - 20)];
      }
    }
    out.events += static_cast<std::int64_t>(events.size());
    for (const auto& [op, n] : ops) {
      out.duplicate_appends += n > 1 ? n - 1 : 0;
    }
    for (const auto* x : by_room[static_cast<std::size_t>(r)]) {
      auto it = events.find(x->seq);
      const bool ok = it != events.end() && it->second.has_chat_posted() &&
                      it->second.chat_posted().text().find("|" + x->op + "|") != std::string::npos;
      out.lost += ok ? 0 : 1;
    }
    v1::ClientFrame leave;
    leave.mutable_leave()->set_room_id(room);
    if (request_sync(*c, leave, rid++).has_error()) {
      throw std::runtime_error("leave failed");
    }
  }
  c->close();
  return out;
}

}  // namespace

Result soak(const Args& args) {
  Args a = args;
  if (a.kill_at_s > 0 && a.server_cmd.empty()) {
    throw std::invalid_argument("--kill-at-s needs --server-cmd (the driver restarts the server)");
  }
  std::string cmd = a.server_cmd;
  if (cmd.find("{port}") != std::string::npos) {
    asio::io_context tmp;
    tcp::acceptor probe(tmp, tcp::endpoint(asio::ip::make_address(a.host), 0));
    a.port = probe.local_endpoint().port();
    for (auto p = cmd.find("{port}"); p != std::string::npos; p = cmd.find("{port}")) {
      cmd.replace(p, 6, std::to_string(a.port));
    }
  }
  pid_t pid = cmd.empty() ? a.server_pid : spawn_server(cmd, a.server_log);
  const auto run = run_id();
  {  // Rooms.
    IoThread setup;
    auto c = setup_conn(setup.ioc, a, "soak-setup-" + run, cmd.empty() ? 0 : pid);
    for (int r = 0; r < a.rooms; ++r) {
      create_room(*c, fmt::format("soak-{}-{}", run, r));
    }
    c->close();
  }

  Driver d(a, run);
  const auto setup_deadline = now_ns() + static_cast<std::int64_t>(a.timeout_s * 1e9);
  while (on_io_thread(d.ioc(), [&] { return d.live(); }) < a.connections) {
    if (now_ns() > setup_deadline) {
      throw std::runtime_error("members did not all join in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto t0 = now_ns();
  on_io_thread(d.ioc(), [&] {
    d.start_measuring(t0);
    return 0;
  });
  std::cout << fmt::format("soak: {} connections in {} rooms joined; running {} s{}\n",
                           a.connections, a.rooms, a.duration_s,
                           a.kill_at_s > 0 ? fmt::format(", kill -9 at {} s", a.kill_at_s) : "")
            << std::flush;

  // Samples, the kill and restart, a progress line per minute.
  std::vector<Sample> samples;
  std::vector<double> incarnation_start{0.0};
  bool killed = false, paused = false;
  const auto t_end = t0 + static_cast<std::int64_t>(a.duration_s * 1e9);
  auto next_sample = t0;
  int next_progress = 1;
  auto sample = [&](std::int64_t now) {
    samples.push_back({static_cast<double>(now - t0) / static_cast<double>(kMinute),
                       static_cast<int>(incarnation_start.size()) - 1,
                       static_cast<double>(process_rss_kib(pid)) / 1024.0, count_fds(pid)});
  };
  for (auto now = now_ns(); now < t_end; now = now_ns()) {
    if (now >= next_sample) {
      sample(now);
      next_sample += static_cast<std::int64_t>(a.sample_s * 1e9);
    }
    if (a.kill_at_s > 0 && !killed && now >= t0 + static_cast<std::int64_t>(a.kill_at_s * 1e9)) {
      sample(now);
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = spawn_server(cmd, a.server_log);
      killed = true;
      incarnation_start.push_back(static_cast<double>(now - t0) / static_cast<double>(kMinute));
      std::cout << fmt::format("soak: kill -9 at {:.1f} s; restarted as pid {}\n",
                               static_cast<double>(now - t0) / 1e9, pid)
                << std::flush;
    }
    if (a.pause_ms > 0 && !paused && now >= t0 + static_cast<std::int64_t>(a.pause_at_s * 1e9)) {
      paused = true;
      kill(pid, SIGSTOP);
      std::this_thread::sleep_for(
          std::chrono::microseconds(static_cast<std::int64_t>(a.pause_ms * 1e3)));
      kill(pid, SIGCONT);
      std::cout << fmt::format("soak: server stopped for {} ms at {:.1f} s\n", a.pause_ms,
                               static_cast<double>(now - t0) / 1e9)
                << std::flush;
    }
    if (now >= t0 + next_progress * kMinute) {
      auto line = on_io_thread(d.ioc(), [&] {
        const auto& mins = d.minutes();
        const auto i = static_cast<std::size_t>(next_progress - 1);
        const Minute m = i < mins.size() ? mins[i] : Minute{};
        return fmt::format(
            "soak: minute {}: rss {:.1f} MiB, fds {}, acked {}, p99 {:.2f} ms (steady {:.2f}), "
            "reconnects {}, drops {}, gaps {}",
            next_progress, samples.back().rss_mib, samples.back().fds, m.acked,
            minute_p99_ms(m.lat_ns), steady_p99_ms(m.lat_ns), m.reconnects, m.drops,
            d.counters().gaps);
      });
      std::cout << line << "\n" << std::flush;
      ++next_progress;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sample(now_ns());

  // Drain: stop posting and churn, wait until every member has every acked post.
  on_io_thread(d.ioc(), [&] {
    d.quiesce();
    return 0;
  });
  const auto drain_deadline = now_ns() + 60'000 * kMs;
  bool drained = false;
  while (!(drained = on_io_thread(d.ioc(), [&] { return d.drained(); })) &&
         now_ns() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto [lost_events, lost_views] = on_io_thread(d.ioc(), [&] {
    d.stop();
    return d.lost_in_streams();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // Let the closes go out.
  const auto hist = check_history(a, run, d);
  const auto n = on_io_thread(d.ioc(), [&] { return d.counters(); });
  const auto minutes = on_io_thread(d.ioc(), [&] { return d.minutes(); });
  if (!cmd.empty()) {
    stop_server(pid, SIGTERM);
  }

  // ---- criteria ----
  const double warm_min = a.warmup_s / 60.0;
  double worst_slope = std::nan("");
  bool rss_ok = true, fds_ok = true;
  std::string slopes, fd_text;
  for (std::size_t k = 0; k < incarnation_start.size(); ++k) {
    std::vector<Sample> s;
    for (const auto& x : samples) {
      if (x.incarnation == static_cast<int>(k) && x.t_min >= incarnation_start[k] + warm_min) {
        s.push_back(x);
      }
    }
    const double sl = slope(s);
    slopes += fmt::format("{}{:.3f}", k > 0 ? "," : "", sl);
    if (!std::isnan(sl)) {
      rss_ok = rss_ok && sl < a.max_rss_slope_mib;
      worst_slope = std::isnan(worst_slope) ? sl : std::max(worst_slope, sl);
    }
    if (!s.empty()) {
      const int base = s.front().fds, last = s.back().fds;
      fds_ok = fds_ok && std::abs(last - base) <= std::max(20, base / 50);
      fd_text += fmt::format("{}{}->{}", k > 0 ? "," : "", base, last);
    }
  }
  if (std::isnan(worst_slope)) {
    rss_ok = false;  // Too short to tell.
  }
  // p99 drift: minute 2 against the last three whole minutes after it (bench/soak_criteria.hpp).
  const auto whole = static_cast<std::size_t>(a.duration_s / 60.0);
  const auto minute_at = [&](std::size_t i) {
    return i < minutes.size() ? minutes[i].lat_ns : MinuteLatencies{};
  };
  const auto m2 = minute_at(1);
  std::vector<MinuteLatencies> last_minutes;
  for (std::size_t i = std::max<std::size_t>(2, whole >= 3 ? whole - 3 : 2); i < whole; ++i) {
    last_minutes.push_back(minute_at(i));
  }
  const auto last_minute = last_minutes.empty() ? MinuteLatencies{} : last_minutes.back();
  const auto drift = p99_drift(m2, last_minutes, a.p99_floor_ms);
  const bool p99_ok = drift.ok;
  const auto windows_text = [](const MinuteLatencies& w) {
    std::string s;
    for (const double p : window_p99s_ms(w)) {
      s += fmt::format("{}{:.1f}", s.empty() ? "" : " ", p);
    }
    return s;
  };
  const bool lost_ok = drained && lost_views == 0 && hist.lost == 0 &&
                       hist.duplicate_appends == 0 && hist.chain_breaks == 0 && n.acked > 0;
  const bool gap_ok = n.gaps == 0 && n.dups == 0 && n.resets == 0 && n.backfill_breaks == 0 &&
                      n.resume_anomalies == 0;
  const bool pass = rss_ok && fds_ok && p99_ok && lost_ok && gap_ok;

  std::cout << "\n minute  rss_mib   fds  acked  deliveries  p50_ms  p99_ms  steady_p99_ms  "
               "reconnects  drops  p99_ms_by_10s_window\n";
  for (std::size_t i = 0; i < minutes.size(); ++i) {
    const auto pct = percentiles(all_of(minutes[i].lat_ns));
    const Sample* last = nullptr;
    for (const auto& x : samples) {
      if (x.t_min <= static_cast<double>(i + 1) + 1e-9) {
        last = &x;
      }
    }
    std::cout << fmt::format(
        " {:>6}  {:>7.1f}  {:>4}  {:>5}  {:>10}  {:>6.2f}  {:>6.2f}  {:>13.2f}  {:>10}  {:>5}  "
        "[{}]\n",
        i + 1, last ? last->rss_mib : 0.0, last ? last->fds : 0, minutes[i].acked,
        minutes[i].deliveries, pct.p50_us / 1000.0, pct.p99_us / 1000.0,
        steady_p99_ms(minutes[i].lat_ns), minutes[i].reconnects, minutes[i].drops,
        windows_text(minutes[i].lat_ns));
  }
  auto verdict = [](bool ok) { return ok ? "PASS" : "FAIL"; };
  std::cout << fmt::format(
      "\n RSS slope after warm-up (MiB/min, per server process): {}  < {}  {}\n"
      " fds after warm-up -> last (per server process): {}  (+-max(20, 2%))  {}\n"
      " steady p99 (2nd-lowest of the 10 s windows' p99s) minute 2 {:.2f} ms, "
      "best of minutes {}-{} {:.2f} ms, limit max(1.2x, +{} ms) = {:.2f} ms  {}\n"
      "   (whole-minute p99 {:.2f} -> {:.2f} ms; by window in the table)\n"
      " acked {} (duplicate replies {}), lost in member streams {} ({} member views), lost in "
      "history {}, appended twice {}, history chain breaks {}, drained {}  {}\n"
      " gaps {}, duplicates {}, RESET {}, backfill breaks {}, resume anomalies {}  {}\n\n",
      slopes, a.max_rss_slope_mib, verdict(rss_ok), fd_text, verdict(fds_ok), drift.baseline_ms,
      whole - last_minutes.size() + 1, whole, drift.last_ms, a.p99_floor_ms, drift.limit_ms,
      verdict(p99_ok), minute_p99_ms(m2), minute_p99_ms(last_minute), n.acked, n.dup_acks,
      lost_events, lost_views, hist.lost, hist.duplicate_appends, hist.chain_breaks,
      drained ? "yes" : "NO", verdict(lost_ok), n.gaps, n.dups, n.resets, n.backfill_breaks,
      n.resume_anomalies, verdict(gap_ok));

  Result r;
  r.num("connections", a.connections);
  r.num("rooms", a.rooms);
  r.num("duration_s", a.duration_s);
  r.num("kill_at_s", a.kill_at_s);
  r.num("acked", static_cast<double>(n.acked));
  r.num("duplicate_acks", static_cast<double>(n.dup_acks));
  r.num("post_errors", static_cast<double>(n.post_errors));
  r.num("post_retries", static_cast<double>(n.post_retries));
  r.num("reconnects", static_cast<double>(n.planned));
  r.num("unplanned_drops", static_cast<double>(n.unplanned));
  r.num("connect_failures", static_cast<double>(n.connect_failures));
  r.num("resume_exact", static_cast<double>(n.exact));
  r.num("resume_snapshot", static_cast<double>(n.snapshot));
  r.num("resume_reset", static_cast<double>(n.resets));
  r.num("gaps", static_cast<double>(n.gaps));
  r.num("duplicates", static_cast<double>(n.dups));
  r.num("lost_acked_events", static_cast<double>(lost_events + hist.lost));
  r.num("appended_twice", static_cast<double>(hist.duplicate_appends));
  r.num("history_events", static_cast<double>(hist.events));
  r.str("rss_slopes", slopes);
  r.str("fds", fd_text);
  const auto or_neg = [](double v) { return std::isnan(v) ? -1.0 : v; };  // JSON has no NaN.
  r.num("p99_minute2_ms", or_neg(minute_p99_ms(m2)));
  r.num("p99_last_minute_ms", or_neg(minute_p99_ms(last_minute)));
  r.num("steady_p99_minute2_ms", or_neg(drift.baseline_ms));
  r.num("steady_p99_last_minutes_best_ms", or_neg(drift.last_ms));
  r.num("p99_limit_ms", or_neg(drift.limit_ms));
  r.num("pause_ms", a.pause_ms);
  r.num("p99_floor_ms", a.p99_floor_ms);
  r.num("rss_slope_mib_per_min", or_neg(worst_slope));
  r.num("pass_rss", rss_ok ? 1 : 0);
  r.num("pass_fds", fds_ok ? 1 : 0);
  r.num("pass_p99", p99_ok ? 1 : 0);
  r.num("pass_lost", lost_ok ? 1 : 0);
  r.num("pass_gap_free", gap_ok ? 1 : 0);
  r.num("complete", pass ? 1 : 0);
  return r;
}

}  // namespace huddle::bench
