// huddle-bench scenarios: join storm, resume catch-up, idle connection memory.
#include "bench/bench_common.hpp"

namespace huddle::bench {

namespace {

// Posts `n` chat lines (or ideas) into `room` through `c` (set up, not started), `window` in
// flight. A board holds at most 2000 ideas unless the server runs with --max-ideas.
std::uint64_t seed_room(LoadConn& c, const std::string& room, int n, int size,
                        bool as_ideas = false) {
  const int window = 256;
  int sent = 0;
  int acked = 0;
  std::uint64_t head = 0;
  auto send = [&] {
    v1::ClientFrame f;
    f.set_request_id(static_cast<std::uint64_t>(10 + sent));
    if (as_ideas) {
      f.mutable_post_idea()->set_room_id(room);
      f.mutable_post_idea()->set_text(payload_text(now_ns(), size));
    } else {
      f.mutable_post_chat()->set_room_id(room);
      f.mutable_post_chat()->set_text(payload_text(now_ns(), size));
    }
    c.write_sync(encode(f));
    ++sent;
  };
  while (sent < std::min(window, n)) {
    send();
  }
  while (acked < n) {
    for (const auto& s : frames_of(c.read_sync())) {
      if (s.has_reply() && s.reply().request_id() >= 10) {
        if (s.reply().has_error()) {
          throw std::runtime_error("seed post failed: " + s.reply().error().message());
        }
        head = std::max(head, s.reply().seq());
        ++acked;
        if (sent < n) {
          send();
        }
      }
    }
  }
  return head;
}

}  // namespace

// M members join a board holding K ideas at once. A member is usable when its snapshot arrives;
// with --snapshot-ideas N the snapshot holds the newest N ideas, and the member then pages in the
// older ones with GetIdeas (500 a page): it is complete when the last page arrives.
Result join_storm(const Args& a) {
  IoThread io;
  const auto id = run_id();
  const auto room = fmt::format("join-{}", id);
  auto seeder = huddle_member(io.ioc, a, "seeder-" + id);
  create_room(*seeder, room);
  join_sync(*seeder, room);
  seed_room(*seeder, room, a.ideas, a.size, /*as_ideas=*/true);
  struct Joiner {
    std::shared_ptr<LoadConn> conn;
    std::int64_t sent_at = 0;  // 0: not joining (before the storm, or complete).
    bool usable = false;
  };
  std::vector<Joiner> joiners(static_cast<std::size_t>(a.members));
  std::vector<std::int64_t> usable_lat;
  std::vector<std::int64_t> complete_lat;
  std::atomic<int> complete{0};
  int usable = 0;
  std::uint64_t pages = 0;
  int page_errors = 0;
  std::size_t snapshot_bytes = 0;  // Of the WebSocket message that carried a snapshot.
  constexpr std::uint64_t kPageRequest = 1000;
  auto request_page = [&](Joiner& j, std::uint64_t before) {
    v1::ClientFrame f;
    f.set_request_id(kPageRequest);
    f.mutable_get_ideas()->set_room_id(room);
    f.mutable_get_ideas()->set_before_idea_id(before);
    f.mutable_get_ideas()->set_limit(500);
    j.conn->send_here(encode(f));
  };
  auto done = [&](Joiner& j) {
    complete_lat.push_back(now_ns() - j.sent_at);
    j.sent_at = 0;
    complete.fetch_add(1);
  };
  // The first idea's id in a repeated Idea field `field` of `msg` (0: none).
  auto first_idea_id = [](std::string_view msg, std::uint32_t field) {
    return field_value(field_bytes(msg, field), v1::Idea::kIdeaIdFieldNumber);
  };
  for (auto& joiner : joiners) {
    joiner.conn =
        huddle_member(io.ioc, a, fmt::format("joiner{}-{}", &joiner - joiners.data(), id));
    // Room for a 2000-idea snapshot or a page: 200 members' first-touch page faults are not the
    // server's (a bigger snapshot grows the buffer once).
    joiner.conn->reserve_read_buffer(512 * 1024);
    joiner.conn->start([&, j = &joiner](std::string_view msg) {
      if (j->sent_at == 0) {
        return;
      }
      for_each_frame_of_kind(
          msg, v1::ServerFrame::kSnapshotFieldNumber, [&](std::string_view snap) {
            snapshot_bytes = msg.size();
            usable_lat.push_back(now_ns() - j->sent_at);
            j->usable = true;
            ++usable;
            const auto omitted = field_value(snap, v1::RoomSnapshot::kIdeasOmittedFieldNumber);
            if (omitted == 0) {
              return done(*j);
            }
            request_page(*j, first_idea_id(field_bytes(snap, v1::RoomSnapshot::kBoardFieldNumber),
                                           v1::BoardSnapshot::kIdeasFieldNumber));
          });
      for_each_frame_of_kind(msg, v1::ServerFrame::kReplyFieldNumber, [&](std::string_view reply) {
        if (field_value(reply, v1::Reply::kRequestIdFieldNumber) != kPageRequest) {
          return;
        }
        if (!field_bytes(reply, v1::Reply::kErrorFieldNumber).empty()) {
          ++page_errors;  // The member stays incomplete: the run reports complete 0.
          return;
        }
        const auto page = field_bytes(reply, v1::Reply::kIdeasFieldNumber);
        ++pages;
        // has_more and seq come before the ideas (field order, as protobuf writes): stop at the
        // first idea instead of walking 500 of them.
        bool has_more = false;
        std::uint64_t first = 0;
        for_each_field(page, [&](std::uint32_t f, std::uint64_t v, std::string_view b) {
          if (f == v1::IdeasPage::kHasMoreFieldNumber) {
            has_more = v != 0;
          } else if (f == v1::IdeasPage::kIdeasFieldNumber) {
            first = field_value(b, v1::Idea::kIdeaIdFieldNumber);
            return false;
          }
          return true;
        });
        if (!has_more) {
          return done(*j);
        }
        request_page(*j, first);
      });
    });
  }
  const double cpu0_server = process_cpu_seconds(a.server_pid);
  const double cpu0_self = self_cpu_seconds();
  const auto t0 = now_ns();
  asio::post(io.ioc, [&] {
    for (auto& j : joiners) {
      v1::ClientFrame f;
      f.set_request_id(7);
      f.mutable_join()->set_room_id(room);
      f.mutable_join()->set_snapshot_ideas(static_cast<std::uint32_t>(a.snapshot_ideas));
      j.sent_at = now_ns();
      j.conn->send_here(encode(f));
    }
  });
  const auto deadline = t0 + static_cast<std::int64_t>(a.timeout_s * 1e9);
  while (complete.load() < a.members && now_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double secs = static_cast<double>(now_ns() - t0) / 1e9;
  const double cpu_server = process_cpu_seconds(a.server_pid) - cpu0_server;
  const double cpu_self = self_cpu_seconds() - cpu0_self;
  struct Figures {
    std::vector<std::int64_t> usable_lat, complete_lat;
    int usable = 0;
    std::uint64_t pages = 0;
    int page_errors = 0;
    std::size_t snapshot_bytes = 0;
  };
  auto f = on_io_thread(io.ioc, [&] {
    for (auto& j : joiners) {
      j.conn->close();
    }
    return Figures{usable_lat, complete_lat, usable, pages, page_errors, snapshot_bytes};
  });
  const auto pct = percentiles(std::move(f.usable_lat));
  const auto whole = percentiles(std::move(f.complete_lat));
  Result r;
  r.num("ideas", a.ideas);
  r.num("members", a.members);
  r.num("snapshot_ideas", a.snapshot_ideas);
  r.num("usable", f.usable);
  r.num("snapshot_message_bytes", static_cast<double>(f.snapshot_bytes));
  r.num("pages", static_cast<double>(f.pages));
  r.num("page_errors", f.page_errors);
  r.num("complete_p50_us", whole.p50_us);
  r.num("complete_p99_us", whole.p99_us);
  r.num("seconds", secs);
  r.num("deliveries", f.usable);
  r.num("deliveries_per_s", f.usable / secs);
  r.latency(pct);
  r.num("server_cpu_pct", a.server_pid > 0 ? 100.0 * cpu_server / secs : -1);
  r.num("client_cpu_pct", 100.0 * cpu_self / secs);
  r.num("complete", complete.load() == a.members ? 1 : 0);
  return r;
}

// A member misses N events, comes back with (epoch, last_seq), and catches up: EXACT (the
// events follow the join reply) or SNAPSHOT (snapshot, then history pages back to last_seq).
Result resume(const Args& a) {
  IoThread io;
  const auto id = run_id();
  const auto room = fmt::format("resume-{}", id);
  const auto who = "resumer-" + id;
  std::uint64_t epoch = 0;
  std::uint64_t last = 0;
  {
    auto c = huddle_member(io.ioc, a, who);
    create_room(*c, room);
    auto j = join_sync(*c, room);
    epoch = j.join().epoch();
    last = j.join().head_seq();
  }
  auto writer = huddle_member(io.ioc, a, "writer-" + id);
  join_sync(*writer, room);
  // The resumer's MemberJoined may land after `last`; count from the writer's view instead.
  const std::uint64_t head = seed_room(*writer, room, a.missed, a.size);
  // The resumer has seen everything but the last `missed` events. (Its own MemberLeft and the
  // writer's MemberJoined come after its join: counting from there, it would miss missed + 2,
  // one past the server's EXACT limit of 1000 for --missed 1000.)
  last = std::max(last, head - std::min<std::uint64_t>(head, a.missed));

  const double cpu0_server = process_cpu_seconds(a.server_pid);
  const auto t0 = now_ns();
  auto c = huddle_member(io.ioc, a, who);
  const auto connect_ns = now_ns() - t0;  // TCP, upgrade, hello.
  // No allocation or page fault while catching up: the read buffer and the parse arena's memory
  // are touched now, as a client that has been running a while has them.
  c->reserve_read_buffer(1024 * 1024);
  std::vector<char> parse_block(4 * 1024 * 1024, 1);
  v1::ClientFrame join;
  join.set_request_id(2);
  join.mutable_join()->set_room_id(room);
  join.mutable_join()->mutable_resume()->set_epoch(epoch);
  join.mutable_join()->mutable_resume()->set_last_seq(last);
  const auto t_join = now_ns();  // Connected and said hello: the rest is the resume itself.
  c->write_sync(encode(join));
  std::string mode;
  std::uint64_t received = 0;
  std::uint64_t newest = 0;
  bool have_snapshot = false;
  std::int64_t t_reply = 0;
  while (true) {
    bool done = false;
    const auto msg = c->read_sync_view();
    const auto parsed = frames_of(msg, parse_block);
    for (const auto& f : parsed) {
      if (f.has_reply() && f.reply().request_id() == 2) {
        t_reply = now_ns();
        mode = v1::ResumeMode_Name(f.reply().join().mode());
      } else if (f.has_event_batch()) {
        for (const auto& e : f.event_batch().events()) {
          ++received;
          newest = std::max(newest, e.seq());
        }
      } else if (f.has_snapshot()) {
        have_snapshot = true;
      }
    }
    if (mode == "RESUME_MODE_EXACT" && newest >= head) {
      done = true;
    }
    if (mode != "RESUME_MODE_EXACT" && !mode.empty() && have_snapshot) {
      done = true;
    }
    if (done) {
      break;
    }
  }
  if (mode != "RESUME_MODE_EXACT") {
    // Page back from the head to `last`.
    std::uint64_t before = 0;
    std::uint64_t rid = 100;
    while (true) {
      v1::ClientFrame h;
      h.mutable_get_history()->set_room_id(room);
      h.mutable_get_history()->set_before_seq(before);
      h.mutable_get_history()->set_limit(200);
      auto reply = request_sync(*c, h, rid++);
      if (reply.has_error()) {
        throw std::runtime_error("history failed");
      }
      bool done = !reply.history().has_more() || reply.history().events().empty();
      for (const auto& e : reply.history().events()) {
        if (e.seq() > last) {
          ++received;
        } else {
          done = true;
        }
      }
      if (done) {
        break;
      }
      before = reply.history().events(0).seq();
    }
  }
  // From connect, without the time the load generator spent preparing its read buffer.
  const double secs = static_cast<double>(connect_ns + (now_ns() - t_join)) / 1e9;
  const double cpu_server = process_cpu_seconds(a.server_pid) - cpu0_server;
  Result r;
  r.num("missed", a.missed);
  r.str("resume_mode", mode);
  r.num("received", static_cast<double>(received));
  r.num("catchup_ms", secs * 1000.0);  // From connect: TCP, upgrade, hello, join, events.
  r.num("connect_ms", static_cast<double>(connect_ns) / 1e6);
  r.num("join_to_caught_up_ms", static_cast<double>(now_ns() - t_join) / 1e6);
  r.num("join_to_reply_ms", static_cast<double>(t_reply - t_join) / 1e6);
  r.num("deliveries", static_cast<double>(received));
  r.num("deliveries_per_s", static_cast<double>(received) / secs);
  r.num("p50_us", secs * 1e6);
  r.num("p90_us", secs * 1e6);
  r.num("p99_us", secs * 1e6);
  r.num("max_us", secs * 1e6);
  r.num("server_cpu_pct", a.server_pid > 0 ? 100.0 * cpu_server / secs : -1);
  r.num("client_cpu_pct", -1);
  r.num("complete", received >= static_cast<std::uint64_t>(a.missed) ? 1 : 0);
  return r;
}

// C connections that said hello and sit idle: server RSS per connection.
Result idle(const Args& a) {
  IoThread io;
  const auto id = run_id();
  const auto rss0 = process_rss_kib(a.server_pid);
  const auto t0 = now_ns();
  std::vector<std::shared_ptr<LoadConn>> conns;
  conns.reserve(static_cast<std::size_t>(a.connections));
  for (int i = 0; i < a.connections; ++i) {
    std::shared_ptr<LoadConn> c;
    if (a.mode == "broadcast") {
      c = std::make_shared<LoadConn>(io.ioc, a.host, a.port, a.path + "?room=idle", "");
    } else {
      c = huddle_member(io.ioc, a, fmt::format("idle{}-{}", i, id));
    }
    c->start([](std::string_view) {});
    conns.push_back(std::move(c));
  }
  const double setup_s = static_cast<double>(now_ns() - t0) / 1e9;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // Let the server settle.
  const auto rss1 = process_rss_kib(a.server_pid);
  for (auto& c : conns) {
    c->close();
  }
  Result r;
  r.num("connections", a.connections);
  r.num("setup_seconds", setup_s);
  r.num("server_rss_before_kib", static_cast<double>(rss0));
  r.num("server_rss_after_kib", static_cast<double>(rss1));
  r.num("bytes_per_connection",
        a.connections > 0 ? 1024.0 * static_cast<double>(rss1 - rss0) / a.connections : 0);
  r.num("deliveries", 0);
  r.num("deliveries_per_s", 0);
  r.num("p50_us", 0);
  r.num("p90_us", 0);
  r.num("p99_us", 0);
  r.num("max_us", 0);
  r.num("server_cpu_pct", -1);
  r.num("client_cpu_pct", -1);
  r.num("complete", a.server_pid > 0 ? 1 : 0);
  return r;
}

}  // namespace huddle::bench
