// huddle-bench scenarios: fanout (and plain broadcast for peers) and durable posts.
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>

#include "bench/bench_common.hpp"

namespace huddle::bench {

// ---- fanout ----

Result fanout(const Args& a) {
  // Members and publishers on separate threads: reading a thousand members must not delay the
  // publisher's acks (and so its window), or the harness would throttle the server it measures.
  IoThread io;
  IoThread pub_io;
  const bool broadcast = a.mode == "broadcast";
  const auto id = run_id();
  auto room_name = [&](int r) { return fmt::format("bench-{}-{}", id, r); };

  // Counters: written on the io thread only; read by the main thread after it quiesces.
  std::atomic<std::int64_t> deliveries{0};
  std::atomic<std::int64_t> member_messages{0};  // WebSocket messages carrying events.
  std::atomic<std::int64_t> last_delivery_ns{0};
  std::vector<std::int64_t> lat_ns;  // io thread only.
  lat_ns.reserve(1 << 20);
  std::atomic<bool> measuring{false};

  if (!broadcast) {
    auto setup = huddle_member(io.ioc, a, "bench-setup-" + id);
    for (int r = 0; r < a.rooms; ++r) {
      create_room(*setup, room_name(r), a.anonymous);
    }
  }
  std::vector<std::shared_ptr<LoadConn>> members;
  // --slow-members K: the last K members of each room join and then never read their socket
  // (a stalled client); the figures are the other members'. After the run they read again, to
  // see how the server ended them (4008: closed as a slow consumer).
  const int slow_members = std::min(a.slow_members, a.members);
  std::vector<std::shared_ptr<LoadConn>> slow;
  for (int r = 0; r < a.rooms; ++r) {
    for (int m = 0; m < a.members; ++m) {
      const int index = r * a.members + m;
      std::shared_ptr<LoadConn> c;
      if (broadcast) {
        c = std::make_shared<LoadConn>(io.ioc, a.host, a.port, a.path + "?room=" + room_name(r),
                                       "");
      } else {
        c = huddle_member(io.ioc, a, fmt::format("m{}-{}", index, id));
        join_sync(*c, room_name(r));
      }
      if (m >= a.members - slow_members) {
        slow.push_back(std::move(c));
        continue;
      }
      // Room for the largest message (a 256 KiB batch), touched now: 1000 members' first-touch
      // page faults during the run are the load generator's cost, not the server's.
      c->reserve_read_buffer(288 * 1024);
      const bool sampled = index % a.sample_every == 0;
      c->start([&, sampled, broadcast](std::string_view msg) {
        if (!measuring.load(std::memory_order_relaxed)) {
          return;
        }
        const auto now = now_ns();
        std::size_t n = 0;
        if (broadcast) {
          n = 1;
          if (sampled && msg.size() >= 20) {
            lat_ns.push_back(now - std::stoll(std::string(msg.substr(0, 19))));
          }
        } else if (sampled) {
          for (const auto& f : frames_of(msg)) {
            for (const auto& e : f.event_batch().events()) {
              if (e.has_chat_posted() && e.chat_posted().text().size() >= 20) {
                ++n;
                lat_ns.push_back(now - std::stoll(e.chat_posted().text().substr(0, 19)));
              }
            }
          }
        } else {
          n = count_events(msg);
        }
        if (n > 0) {
          member_messages.fetch_add(1, std::memory_order_relaxed);
          deliveries.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed);
          last_delivery_ns.store(now, std::memory_order_relaxed);
        }
      });
      members.push_back(std::move(c));
    }
  }

  // Publishers.
  struct Pub {
    std::shared_ptr<LoadConn> conn;
    std::string room;
    int to_send = 0;
    int sent = 0;
    int acked = 0;
  };
  std::vector<std::unique_ptr<Pub>> pubs;
  for (int p = 0; p < a.publishers; ++p) {
    auto pub = std::make_unique<Pub>();
    pub->room = room_name(p % a.rooms);
    pub->to_send = a.messages / a.publishers + (p < a.messages % a.publishers ? 1 : 0);
    if (broadcast) {
      pub->conn = std::make_shared<LoadConn>(pub_io.ioc, a.host, a.port,
                                             a.path + "?room=" + pub->room + "&role=pub", "");
    } else {
      pub->conn = huddle_member(pub_io.ioc, a, fmt::format("pub{}-{}", p, id));
      join_sync(*pub->conn, pub->room);
    }
    pubs.push_back(std::move(pub));
  }
  std::int64_t expected = 0;
  for (const auto& p : pubs) {
    expected += static_cast<std::int64_t>(p->to_send) * (a.members - slow_members);
  }

  // Let setup traffic (presence, MemberJoined events) drain before measuring.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  std::atomic<int> acks{0};
  auto send_one = [&](Pub& p) {
    const auto ts = now_ns();
    if (broadcast) {
      p.conn->send_here(payload_text(ts, a.size));
    } else {
      v1::ClientFrame f;
      f.set_request_id(static_cast<std::uint64_t>(100 + p.sent));
      f.mutable_post_chat()->set_room_id(p.room);
      f.mutable_post_chat()->set_text(payload_text(ts, a.size));
      p.conn->send_here(encode(f));
    }
    ++p.sent;
  };
  for (auto& pp : pubs) {
    Pub* p = pp.get();
    p->conn->start([&, p, broadcast](std::string_view msg) {
      if (broadcast) {
        return;
      }
      for (const auto& f : frames_of(msg)) {
        if (!f.has_reply()) {
          continue;
        }
        ++p->acked;
        acks.fetch_add(1, std::memory_order_relaxed);
        if (a.rate <= 0 && p->sent < p->to_send) {
          send_one(*p);
        }
      }
    });
  }

  const double cpu0_server = process_cpu_seconds(a.server_pid);
  const double cpu0_self = self_cpu_seconds();
  measuring = true;
  const auto t0 = now_ns();
  // Start publishing on the io thread.
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  asio::post(pub_io.ioc, [&] {
    for (auto& pp : pubs) {
      Pub* p = pp.get();
      if (a.rate > 0) {
        auto timer = std::make_unique<asio::steady_timer>(pub_io.ioc);
        const double per_pub = a.rate / static_cast<double>(pubs.size());
        auto tick = std::make_shared<std::function<void()>>();
        auto* t = timer.get();
        *tick = [&, p, t, per_pub, tick] {
          const double elapsed = static_cast<double>(now_ns() - t0) / 1e9;
          const auto due = std::min<int>(p->to_send, static_cast<int>(elapsed * per_pub) + 1);
          while (p->sent < due) {
            send_one(*p);
          }
          if (p->sent < p->to_send) {
            t->expires_after(std::chrono::milliseconds(1));
            t->async_wait([tick](boost::system::error_code ec) {
              if (!ec) {
                (*tick)();
              }
            });
          }
        };
        (*tick)();
        timers.push_back(std::move(timer));
      } else if (broadcast) {
        while (p->sent < p->to_send) {
          send_one(*p);  // Queued; written as fast as TCP accepts.
        }
      } else {
        const int first = std::min(a.window, p->to_send);
        while (p->sent < first) {
          send_one(*p);
        }
      }
    }
  });

  const auto deadline = t0 + static_cast<std::int64_t>(a.timeout_s * 1e9);
  // A measured member the server closed (4008: it fell a whole outbox behind) will never get
  // the rest: the run stops there, incomplete, instead of waiting out its timeout.
  const auto members_ended = [&] {
    return on_io_thread(io.ioc, [&] {
      std::pair<int, int> ended{0, 0};  // (all, with 4008)
      for (const auto& m : members) {
        if (m->ended()) {
          ++ended.first;
          ended.second += m->close_code() == 4008 ? 1 : 0;
        }
      }
      return ended;
    });
  };
  std::pair<int, int> closed{0, 0};
  for (int tick = 1; deliveries.load() < expected && now_ns() < deadline; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (tick % 20 == 0 && (closed = members_ended()).first > 0) {
      break;
    }
  }
  const auto t_end = last_delivery_ns.load() > 0 ? last_delivery_ns.load() : now_ns();
  const double secs = static_cast<double>(t_end - t0) / 1e9;
  const double cpu_server = process_cpu_seconds(a.server_pid) - cpu0_server;
  const double cpu_self = self_cpu_seconds() - cpu0_self;
  measuring = false;

  // The stalled members read again: what they find at the end of their stream is how the server
  // ended them. It drops one that never takes its close frame after its handshake timeout (10 s
  // by default), so wait a little longer than that.
  int slow_4008 = 0;
  int slow_other = 0;
  if (!slow.empty()) {
    on_io_thread(io.ioc, [&] {
      for (auto& c : slow) {
        c->start([](std::string_view) {});
      }
      return 0;
    });
    const auto slow_deadline = now_ns() + 15'000'000'000LL;
    const auto any_open = [&] {
      return std::any_of(slow.begin(), slow.end(), [](const auto& c) { return !c->ended(); });
    };
    while (now_ns() < slow_deadline && on_io_thread(io.ioc, any_open)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    on_io_thread(io.ioc, [&] {
      for (const auto& c : slow) {
        if (c->ended()) {
          ++(c->close_code() == 4008 ? slow_4008 : slow_other);
        }
      }
      return 0;
    });
  }
  auto lat = on_io_thread(io.ioc, [&] {
    for (auto& c : slow) {
      c->close();
    }
    for (auto& m : members) {
      m->close();
    }
    for (auto& p : pubs) {
      p->conn->close();
    }
    return lat_ns;
  });
  const auto pct = percentiles(std::move(lat));

  Result r;
  r.num("rooms", a.rooms);
  r.num("members", a.members);
  r.num("publishers", a.publishers);
  r.num("messages", a.messages);
  r.num("size", a.size);
  r.num("anonymous", a.anonymous ? 1 : 0);
  r.num("slow_members", slow_members);
  if (slow_members > 0) {
    // Of the stalled members: closed with 4008, ended otherwise (dropped, another code), and
    // still open 15 s after the run (never closed).
    r.num("slow_closed_4008", slow_4008);
    r.num("slow_closed_other", slow_other);
    r.num("slow_still_open", static_cast<double>(slow.size()) - slow_4008 - slow_other);
  }
  r.num("rate", a.rate);
  r.num("deliveries", static_cast<double>(deliveries.load()));
  r.num("expected", static_cast<double>(expected));
  r.num("seconds", secs);
  r.num("deliveries_per_s", static_cast<double>(deliveries.load()) / secs);
  r.num("events_per_message",
        member_messages.load() > 0
            ? static_cast<double>(deliveries.load()) / static_cast<double>(member_messages.load())
            : 0);
  r.latency(pct);
  r.num("latency_samples", static_cast<double>(pct.samples));
  r.num("server_cpu_pct", a.server_pid > 0 ? 100.0 * cpu_server / secs : -1);
  r.num("client_cpu_pct", 100.0 * cpu_self / secs);
  r.num("server_cpu_us_per_delivery", a.server_pid > 0 && deliveries > 0
                                          ? 1e6 * cpu_server / static_cast<double>(deliveries)
                                          : -1);
  r.num("server_rss_kib", static_cast<double>(process_rss_kib(a.server_pid)));
  // Measured members the server closed during the run (and of those, with 4008).
  r.num("members_closed", closed.first);
  r.num("members_closed_4008", closed.second);
  r.num("complete", deliveries.load() == expected ? 1 : 0);
  return r;
}

// ---- post ----

Result post(const Args& a) {
  IoThread io;
  const auto id = run_id();
  struct Pub {
    std::shared_ptr<LoadConn> conn;
    std::string room;
    int to_send = 0, sent = 0, acked = 0;
    std::unordered_map<std::uint64_t, std::int64_t> sent_at;
  };
  std::vector<std::unique_ptr<Pub>> pubs;
  for (int p = 0; p < a.publishers; ++p) {
    auto pub = std::make_unique<Pub>();
    pub->room = fmt::format("post-{}-{}", id, p);
    pub->conn = huddle_member(io.ioc, a, fmt::format("poster{}-{}", p, id));
    create_room(*pub->conn, pub->room);
    join_sync(*pub->conn, pub->room);
    pub->to_send = a.messages / a.publishers;
    pubs.push_back(std::move(pub));
  }
  std::vector<std::int64_t> lat;
  std::atomic<int> acked{0};
  std::atomic<int> errors{0};
  const int window = std::min(a.window, 16);
  auto send_one = [&](Pub& p) {
    v1::ClientFrame f;
    const auto rid = static_cast<std::uint64_t>(1000 + p.sent);
    f.set_request_id(rid);
    f.set_op_id(fmt::format("op{}", p.sent));
    f.mutable_post_chat()->set_room_id(p.room);
    f.mutable_post_chat()->set_text(payload_text(now_ns(), a.size));
    p.sent_at[rid] = now_ns();
    p.conn->send_here(encode(f));
    ++p.sent;
  };
  for (auto& pp : pubs) {
    Pub* p = pp.get();
    p->conn->start([&, p](std::string_view msg) {
      for (const auto& f : frames_of(msg)) {
        if (!f.has_reply()) {
          continue;
        }
        auto it = p->sent_at.find(f.reply().request_id());
        if (it == p->sent_at.end()) {
          continue;
        }
        lat.push_back(now_ns() - it->second);
        p->sent_at.erase(it);
        if (f.reply().has_error()) {
          errors.fetch_add(1);
        }
        ++p->acked;
        acked.fetch_add(1);
        if (p->sent < p->to_send) {
          send_one(*p);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double cpu0_server = process_cpu_seconds(a.server_pid);
  const double cpu0_self = self_cpu_seconds();
  const auto t0 = now_ns();
  int total = 0;
  for (auto& p : pubs) {
    total += p->to_send;
  }
  asio::post(io.ioc, [&] {
    for (auto& p : pubs) {
      for (int i = 0; i < window && p->sent < p->to_send; ++i) {
        send_one(*p);
      }
    }
  });
  const auto deadline = t0 + static_cast<std::int64_t>(a.timeout_s * 1e9);
  while (acked.load() < total && now_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double secs = static_cast<double>(now_ns() - t0) / 1e9;
  const double cpu_server = process_cpu_seconds(a.server_pid) - cpu0_server;
  const double cpu_self = self_cpu_seconds() - cpu0_self;
  auto lat_copy = on_io_thread(io.ioc, [&] {
    for (auto& p : pubs) {
      p->conn->close();
    }
    return lat;
  });
  const auto pct = percentiles(std::move(lat_copy));
  Result r;
  r.num("publishers", a.publishers);
  r.num("window", window);
  r.num("acked", acked.load());
  r.num("errors", errors.load());
  r.num("seconds", secs);
  r.num("acked_per_s", acked.load() / secs);
  r.num("deliveries", acked.load());
  r.num("deliveries_per_s", acked.load() / secs);
  r.latency(pct);
  r.num("server_cpu_pct", a.server_pid > 0 ? 100.0 * cpu_server / secs : -1);
  r.num("client_cpu_pct", 100.0 * cpu_self / secs);
  r.num("complete", acked.load() == total ? 1 : 0);
  return r;
}

}  // namespace huddle::bench
