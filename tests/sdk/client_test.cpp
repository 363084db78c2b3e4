// The C++ SDK against the real server (a child process) over loopback: every event reaches the
// application once and in order across a kill -9 and restart, mirrors equal the server's board,
// the offline queue applies each command exactly once, and a broken server never crashes it.
#include "huddle/client.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include "core/board/board_state.hpp"
#include "tests/sdk/sdk_testing.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace v1 = huddle::v1;
using namespace std::chrono_literals;

constexpr const char* kRoom = "sdk-room";

// What an application built on the SDK saw in one room.
struct AppView {
  std::mutex mu;
  std::vector<std::uint64_t> seqs;
  int gaps = 0;        // An event whose prev_seq is not the previous event's seq.
  int duplicates = 0;  // An event at or below the last seq seen.
  std::atomic<bool> ready{false};

  RoomHandlers handlers() {
    RoomHandlers h;
    h.on_ready = [this](const BoardMirror& m) {
      std::lock_guard lock(mu);
      if (seqs.empty()) {
        seqs.push_back(m.seq());  // Where the application's history starts.
      }
      ready = true;
    };
    h.on_event = [this](const v1::Event& e, const BoardMirror&) {
      std::lock_guard lock(mu);
      if (!seqs.empty() && e.seq() <= seqs.back()) {
        ++duplicates;
      } else if (!seqs.empty() && e.prev_seq() != seqs.back()) {
        ++gaps;
      }
      seqs.push_back(e.seq());
    };
    h.on_reset = [this](const BoardMirror&) {
      std::lock_guard lock(mu);
      ++gaps;  // Same epoch throughout: a RESET would be a bug here.
    };
    return h;
  }
  std::uint64_t last() {
    std::lock_guard lock(mu);
    return seqs.empty() ? 0 : seqs.back();
  }
};

ClientOptions options_for(std::uint16_t port, const std::string& id) {
  ClientOptions o;
  o.url = "ws://127.0.0.1:" + std::to_string(port) + "/ws";
  o.display_name = "Name of " + id;
  o.member_id = id;
  o.reconnect_min = 50ms;
  o.reconnect_max = 400ms;
  o.request_timeout = 20s;
  return o;
}

// The board the server sends `id` on a fresh join.
v1::BoardSnapshot server_view(std::uint16_t port, const std::string& id) {
  TestClient c(port);
  c.hello("probe", id);
  c.join(kRoom);
  return c.wait_other([](const v1::ServerFrame& f) { return f.has_snapshot(); }).snapshot().board();
}

TEST(SdkClient, EveryEventOnceInOrderAcrossAKillNineAndMirrorsEqualTheServersBoard) {
  TempDir dir;
  const auto data = (dir.path() / "data").string();
  auto server = std::make_unique<ChildServer>(data);
  const auto port = server->port();
  IoThread io;
  Client ann(io.ioc.get_executor(), options_for(port, "ann"));
  Client bob(io.ioc.get_executor(), options_for(port, "bob"));
  ann.start();
  bob.start();
  ASSERT_TRUE(ann.create_room(kRoom, "SDK", "Prove exactly-once").get().ok());
  AppView ann_view;
  AppView bob_view;
  ann.join(kRoom, ann_view.handlers());
  bob.join(kRoom, bob_view.handlers());
  ASSERT_TRUE(eventually([&] { return ann_view.ready && bob_view.ready; }));

  constexpr int kPosts = 120;
  std::atomic<int> posted{0};
  std::atomic<int> failed{0};
  std::atomic<std::uint64_t> max_seq{0};
  auto poster = [&](Client& c, const std::string& who) {
    for (int i = 0; i < kPosts; ++i) {
      auto r = c.post_chat(kRoom, who + " " + std::to_string(i)).get();
      if (!r.ok()) {
        ++failed;
        continue;
      }
      ++posted;
      auto seen = max_seq.load();
      while (r.seq() > seen && !max_seq.compare_exchange_weak(seen, r.seq())) {
      }
    }
  };
  std::thread ta(poster, std::ref(ann), "ann");
  std::thread tb(poster, std::ref(bob), "bob");
  ASSERT_TRUE(eventually([&] { return posted.load() >= kPosts / 2; }));
  server->kill9();
  server.reset();
  std::this_thread::sleep_for(300ms);  // Both clients notice and keep queueing.
  server = std::make_unique<ChildServer>(
      data, std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port)});
  ta.join();
  tb.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(posted.load(), 2 * kPosts);
  EXPECT_FALSE(ann.errors().empty()) << "the kill should have dropped the connection";

  // Both applications catch up to the newest acked event, having seen each event once.
  EXPECT_TRUE(eventually([&] { return ann_view.last() >= max_seq && bob_view.last() >= max_seq; }));
  for (auto* view : {&ann_view, &bob_view}) {
    std::lock_guard lock(view->mu);
    EXPECT_EQ(view->gaps, 0);
    EXPECT_EQ(view->duplicates, 0);
  }
  {
    std::lock_guard lock_a(ann_view.mu);
    std::lock_guard lock_b(bob_view.mu);
    EXPECT_EQ(ann_view.seqs.back(), bob_view.seqs.back());
  }
  // Each post was applied once: the board counts exactly 2 x kPosts chat lines.
  const auto ann_board = ann.board(kRoom).get();
  EXPECT_EQ(ann_board.chat_message_count(), 2U * kPosts);
  EXPECT_EQ(board::deterministic_bytes(ann_board),
            board::deterministic_bytes(server_view(port, "ann")));
  EXPECT_EQ(board::deterministic_bytes(bob.board(kRoom).get()),
            board::deterministic_bytes(server_view(port, "bob")));
  ann.stop();
  bob.stop();
}

TEST(SdkClient, CommandsIssuedWhileTheServerIsDownApplyExactlyOnceWhenItReturns) {
  TempDir dir;
  const auto data = (dir.path() / "data").string();
  auto server = std::make_unique<ChildServer>(data);
  const auto port = server->port();
  IoThread io;
  Client ann(io.ioc.get_executor(), options_for(port, "ann"));
  ann.start();
  ASSERT_TRUE(ann.create_room(kRoom).get().ok());
  AppView view;
  ann.join(kRoom, view.handlers());
  ASSERT_TRUE(eventually([&] { return view.ready.load(); }));

  server->kill9();
  server.reset();
  ASSERT_TRUE(eventually([&] { return !ann.connected(); }));
  std::vector<std::future<CommandResult>> ideas;
  for (int i = 0; i < 20; ++i) {
    ideas.push_back(ann.post_idea(kRoom, "offline idea " + std::to_string(i)));
  }
  std::this_thread::sleep_for(200ms);
  server = std::make_unique<ChildServer>(
      data, std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port)});
  std::uint64_t last = 0;
  for (auto& f : ideas) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_GT(r.seq(), last);  // Applied in the order issued.
    last = r.seq();
  }
  EXPECT_TRUE(eventually([&] { return view.last() >= last; }));
  const auto board = server_view(port, "ann");
  EXPECT_EQ(board.ideas_size(), 20);
  EXPECT_EQ(board::deterministic_bytes(ann.board(kRoom).get()), board::deterministic_bytes(board));
  ann.stop();
}

// Away for longer than an EXACT resume covers (1000 events): the server answers SNAPSHOT, and
// the SDK still hands the application every missed event, read back with getHistory.
TEST(SdkClient, AfterALongAbsenceTheApplicationStillSeesEveryMissedEventOnce) {
  TempDir dir;
  ChildServer server((dir.path() / "data").string());
  IoThread io;
  Client ann(io.ioc.get_executor(), options_for(server.port(), "ann"));
  ann.start();
  ASSERT_TRUE(ann.create_room(kRoom).get().ok());
  AppView view;
  ann.join(kRoom, view.handlers());
  ASSERT_TRUE(eventually([&] { return view.ready.load(); }));
  const auto before = view.last();
  ann.stop();
  ASSERT_TRUE(eventually([&] { return !ann.connected(); }));

  TestClient bob(server.port());
  bob.hello("Bob", "bob");
  bob.join(kRoom);
  std::uint64_t head = 0;
  for (int i = 0; i < 1100; ++i) {
    bob.post_chat_async(kRoom, "while ann was away " + std::to_string(i));
  }
  head = bob.post_chat(kRoom, "last").seq();

  ann.start();
  ASSERT_TRUE(eventually([&] { return view.last() >= head; }, 30s));
  std::lock_guard lock(view.mu);
  EXPECT_EQ(view.gaps, 0);
  EXPECT_EQ(view.duplicates, 0);
  // Every seq from where ann stopped to the head, once: bob's MemberJoined and 1101 chats.
  EXPECT_EQ(view.seqs.back() - before, view.seqs.size() - 1);
  EXPECT_EQ(view.seqs.size() - 1, 1U + 1101U);
  ann.stop();
}

// The typed commands, each against the real server: a small session through every phase, and
// the mirror agrees with the server's board at the end; presence reaches the other member.
TEST(SdkClient, TypedCommandsRunASessionAndTheMirrorAgrees) {
  TestServer server;
  IoThread io;
  Client fran(io.ioc.get_executor(), options_for(server.port(), "fran"));
  Client pat(io.ioc.get_executor(), options_for(server.port(), "pat"));
  fran.start();
  pat.start();
  ASSERT_TRUE(fran.create_room(kRoom, "Typed", "Every command").get().ok());
  std::atomic<int> presence{0};
  AppView fran_view;
  auto handlers = fran_view.handlers();
  handlers.on_presence = [&](const v1::Presence& p) { presence += p.joined_size(); };
  fran.join(kRoom, handlers);
  ASSERT_TRUE(eventually([&] { return fran_view.ready.load(); }));
  AppView pat_view;
  pat.join(kRoom, pat_view.handlers());
  ASSERT_TRUE(eventually([&] { return pat_view.ready.load() && presence.load() == 1; }));

  auto ok = [](std::future<CommandResult> f) {
    auto r = f.get();
    EXPECT_TRUE(r.ok()) << r.message;
    return r.seq();
  };
  ok(fran.set_goal(kRoom, "Shorter cycles", "Three owners"));
  ok(fran.set_voting(kRoom, 2, 1));
  ok(fran.set_hide_ideas(kRoom, true));
  const auto a = ok(pat.post_idea(kRoom, "Quote templates", {"speed"}));
  const auto b = ok(pat.post_idea(kRoom, "Partner leads"));
  ok(pat.edit_idea(kRoom, b, "Partner-sourced leads"));
  ok(fran.reveal_ideas(kRoom));
  ok(fran.set_phase(kRoom, v1::PHASE_GROUP, 15));
  const auto g1 = ok(fran.create_group(kRoom, "Speed"));
  const auto g2 = ok(fran.create_group(kRoom, "Leads"));
  ok(pat.move_idea(kRoom, a, g1));
  ok(pat.move_idea(kRoom, b, g2));
  ok(fran.rename_group(kRoom, g2, "Pipeline"));
  ok(fran.merge_groups(kRoom, g2, g1));
  const auto c = ok(pat.post_comment(kRoom, a, "Legal first"));
  ok(pat.delete_comment(kRoom, a, c));
  ok(pat.react(kRoom, a, v1::REACTION_CELEBRATE));
  ok(fran.set_phase(kRoom, v1::PHASE_VOTE));
  ok(pat.vote(kRoom, a));
  EXPECT_EQ(pat.vote(kRoom, a).get().code, v1::ERROR_CODE_VOTE_CAP_EXCEEDED);
  ok(pat.vote(kRoom, b));
  ok(pat.unvote(kRoom, b));
  ok(fran.set_phase(kRoom, v1::PHASE_DISCUSS));
  const auto act = ok(fran.create_action(kRoom, "Template v1", "pat", "2026-12-11", a));
  ok(fran.update_action(kRoom, act, "Template v2", "pat", "2026-12-18"));
  ok(pat.set_action_status(kRoom, act, v1::ACTION_STATUS_DONE));
  ok(fran.set_role(kRoom, "pat", v1::ROLE_OBSERVER));
  EXPECT_EQ(pat.post_chat(kRoom, "still here?").get().code, v1::ERROR_CODE_PERMISSION_DENIED);
  const auto last = ok(pat.mark_read(kRoom, act));
  EXPECT_EQ(last, act);
  const auto exported = fran.export_board(kRoom, v1::EXPORT_FORMAT_MARKDOWN).get();
  EXPECT_NE(exported.reply.export_().body().find("[x] Template v2"), std::string::npos);
  const auto page = pat.history(kRoom, 0, 5).get();
  EXPECT_EQ(page.reply.history().events_size(), 5);

  const auto head = page.reply.history().events(4).seq();
  ASSERT_TRUE(eventually([&] { return fran_view.last() >= head && pat_view.last() >= head; }));
  EXPECT_EQ(board::deterministic_bytes(fran.board(kRoom).get()),
            board::deterministic_bytes(server_view(server.port(), "fran")));
  EXPECT_EQ(board::deterministic_bytes(pat.board(kRoom).get()),
            board::deterministic_bytes(server_view(server.port(), "pat")));
  ok(pat.leave(kRoom));
  fran.stop();
  pat.stop();
}

// Graceful shutdown (issue #8): SIGTERM while 200 clients post. The server exits 0 in bounded
// time, connections get close 1001, every acked post is in the log after the restart, and the
// clients resume and finish every post they had issued, each applied once.
TEST(SdkClient, SigtermWithTwoHundredClientsPostingLosesNoAckedPost) {
  TempDir dir;
  const auto data = (dir.path() / "data").string();
  auto server = std::make_unique<ChildServer>(data);
  const auto port = server->port();
  IoThread io;
  {
    Client owner(io.ioc.get_executor(), options_for(port, "owner"));
    owner.start();
    ASSERT_TRUE(owner.create_room(kRoom).get().ok());
    owner.stop();
  }
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<AppView>> views;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(io.ioc.get_executor(),
                                               options_for(port, "c" + std::to_string(i))));
    views.push_back(std::make_unique<AppView>());
    clients.back()->start();
    clients.back()->join(kRoom, views.back()->handlers());
  }
  ASSERT_TRUE(eventually(
      [&] {
        return std::all_of(views.begin(), views.end(),
                           [](const auto& v) { return v->ready.load(); });
      },
      30s));

  std::mutex mu;
  std::map<std::string, std::uint64_t> acked;  // text -> seq
  std::atomic<int> issued{0};
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  std::atomic<bool> posting{true};
  std::function<void(int, int)> post = [&](int c, int n) {
    if (!posting) {
      return;
    }
    const auto text = "c" + std::to_string(c) + "-" + std::to_string(n);
    v1::ClientFrame f;
    f.mutable_post_chat()->set_room_id(kRoom);
    f.mutable_post_chat()->set_text(text);
    ++issued;
    clients[static_cast<std::size_t>(c)]->send(std::move(f), [&, c, n, text](CommandResult r) {
      if (r.ok()) {
        std::lock_guard lock(mu);
        acked[text] = r.seq();
      } else {
        ++failed;
      }
      ++answered;
      post(c, n + 1);
    });
  };
  for (int c = 0; c < kClients; ++c) {
    post(c, 0);
  }
  TestClient watcher(port);  // A raw connection, to see the close code.
  watcher.hello("Watcher", "watcher");
  std::this_thread::sleep_for(500ms);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(server->terminate(), 0);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 10s);
  EXPECT_EQ(watcher.wait_closed(), 1001);
  posting = false;  // Stop issuing; what was issued is still owed an answer.
  std::size_t acked_before_restart = 0;
  {
    std::lock_guard lock(mu);
    acked_before_restart = acked.size();
  }
  EXPECT_GT(acked_before_restart, 0U);

  server = std::make_unique<ChildServer>(
      data, std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(eventually([&] { return answered.load() == issued.load(); }, 60s))
      << answered.load() << " of " << issued.load();
  EXPECT_EQ(failed.load(), 0);

  // Every acked post is in the log, once, at its seq.
  TestClient reader(port);
  reader.hello("Reader", "reader");
  const auto head = reader.join(kRoom).head_seq();
  std::map<std::string, std::uint64_t> stored;
  int chats = 0;
  for (std::uint64_t before = head + 1; before > 1;) {
    v1::ClientFrame h;
    h.mutable_get_history()->set_room_id(kRoom);
    h.mutable_get_history()->set_before_seq(before);
    h.mutable_get_history()->set_limit(200);
    const auto page = reader.request(h).history();
    if (page.events().empty()) {
      break;
    }
    for (const auto& e : page.events()) {
      if (e.has_chat_posted()) {
        ++chats;
        EXPECT_TRUE(stored.emplace(e.chat_posted().text(), e.seq()).second)
            << "stored twice: " << e.chat_posted().text();
      }
    }
    before = page.events(0).seq();
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(static_cast<int>(acked.size()), issued.load());
  EXPECT_EQ(chats, issued.load());
  for (const auto& [text, seq] : acked) {
    ASSERT_TRUE(stored.contains(text)) << "acked but lost: " << text;
    EXPECT_EQ(stored.at(text), seq) << text;
  }
  // And the applications saw their room without a gap or a duplicate, to the head.
  for (const auto& v : views) {
    EXPECT_TRUE(eventually([&] { return v->last() >= head; }, 30s));
    std::lock_guard view_lock(v->mu);
    EXPECT_EQ(v->gaps, 0);
    EXPECT_EQ(v->duplicates, 0);
  }
  std::cout << "posts issued " << issued.load() << ", acked before SIGTERM returned "
            << acked_before_restart << ", shutdown took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms"
            << std::endl;
  for (auto& c : clients) {
    c->stop();
  }
}

// A server that answers the upgrade, reads one message, then sends `payloads[k]` on its k-th
// connection and waits for the client to go away.
class BrokenServer {
 public:
  explicit BrokenServer(std::vector<std::string> payloads) : payloads_(std::move(payloads)) {
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { run(); });
  }
  ~BrokenServer() {
    beast::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  void run() {
    namespace websocket = beast::websocket;
    for (const auto& payload : payloads_) {
      beast::error_code ec;
      asio::ip::tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) {
        return;
      }
      websocket::stream<asio::ip::tcp::socket> ws(std::move(socket));
      ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(beast::http::field::sec_websocket_protocol, "huddle.v1+proto");
      }));
      ws.accept(ec);
      beast::flat_buffer buf;
      ws.read(buf, ec);  // The hello.
      ws.binary(true);
      ws.write(asio::buffer(payload), ec);
      ws.read(buf, ec);  // Until the client drops us.
    }
  }

  std::vector<std::string> payloads_;
  asio::io_context ioc_;
  asio::ip::tcp::acceptor acceptor_{ioc_};
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST(SdkClient, GarbageOrOversizedServerMessagesAreReportedNeverACrash) {
  BrokenServer broken({std::string("\xff\xff\xff\xff garbage", 12), std::string(64 * 1024, 'x')});
  IoThread io;
  auto opts = options_for(broken.port(), "ann");
  opts.max_message_bytes = 16 * 1024;
  Client c(io.ioc.get_executor(), opts);
  c.start();
  ASSERT_TRUE(eventually([&] { return c.errors().size() >= 2; }));
  const auto errors = c.errors();
  EXPECT_NE(errors[0].find("undecodable"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("read"), std::string::npos) << errors[1];
  c.stop();
}

}  // namespace
}  // namespace huddle::testing
