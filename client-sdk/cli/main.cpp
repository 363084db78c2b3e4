// huddle: the command-line client, built on the SDK (huddle::Client). See client-sdk/README.md.
//
//   huddle [--url ws[s]://HOST:PORT/ws] [--name NAME] [--member-id ID] [--token T] COMMAND ...
//
// A write command returns after the server's reply: exit 0 means acked (durable); 1 means the
// server rejected it (including the token or a room's access); 2 means usage errors, an
// unreachable server or an untrusted certificate. Messages go to stderr as one line; results to
// stdout (`idea` prints the new idea's id as its last line, `invite` the invite).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <google/protobuf/util/json_util.h>

#include "huddle/client.hpp"

namespace {

namespace v1 = huddle::v1;
using namespace std::chrono_literals;

constexpr const char* kUsage =
    R"(usage: huddle [OPTIONS] COMMAND
options:
  --url URL          ws://HOST:PORT/ws or wss://HOST:PORT/ws (default ws://127.0.0.1:8080/ws)
  --name NAME        display name (with a token: default the token's name)
  --member-id ID     member id (open auth; with a token it is the token's subject)
  --token T          a member token, for servers with --auth jwt (huddle-server token ...)
  --token-file F     read the token from the first line of F (keeps it out of `ps`)
  --ca-file F        wss: trust the CA certificates in PEM file F (default: the system's)
  --insecure         wss: do not verify the server's certificate (tests only; warns)
  --timeout S        seconds to wait for each answer (default 10)
commands:
  rooms                                   list rooms
  create ROOM [--title T] [--goal TEXT] [--anonymous] [--hide-ideas] [--private]
  invite ROOM [--role participant|facilitator|observer] [--ttl 7d]
                                          an invite to the room (owner or facilitator); prints
                                          it as its last line. TTL: 60s..30d (s, m, h, d)
  chat ROOM TEXT                          post a chat line
  idea ROOM TEXT                          post an idea; prints its id
  vote ROOM IDEA                          vote for an idea; prints the votes left
  phase ROOM collect|group|vote|discuss|done [--timer MINUTES]
  action ROOM TITLE --owner NAME [--due YYYY-MM-DD] [--idea ID]
  tail ROOM [--since SEQ] [--follow] [--json]
  export ROOM --format md|csv|json
  join ROOM                               interactive: lines are chat; /idea TEXT, /vote ID,
                                          /phase NAME, /quit
  Every room command takes --invite INVITE (from `invite`) to enter a private room.
exit status: 0 done; 1 refused by the server (also a refused token or room access); 2 usage,
unreachable server or untrusted certificate.
)";

struct Failure {
  int code;
  std::string message;
};

[[noreturn]] void fail(int code, const std::string& message) {
  throw Failure{code, message};
}

std::uint64_t parse_u64(const std::string& s, const char* what) {
  try {
    std::size_t used = 0;
    const auto v = std::stoull(s, &used);
    if (used == s.size()) {
      return v;
    }
  } catch (const std::exception&) {
  }
  fail(2, std::string("not a number for ") + what + ": " + s);
}

// Global options, then the command and its arguments; --flags of the command are collected.
struct Args {
  std::string url = "ws://127.0.0.1:8080/ws";
  std::string name;
  std::string member_id;
  std::string token;
  std::string ca_file;
  bool insecure = false;
  std::chrono::seconds timeout{10};  // For each answer from the server.
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // --flag VALUE, or --flag "" for switches.
};

bool is_switch(const std::string& f) {
  return f == "--anonymous" || f == "--hide-ideas" || f == "--follow" || f == "--json" ||
         f == "--private";
}

// The first line of `path`, without surrounding whitespace.
std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    fail(2, "cannot read --token-file " + path);
  }
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) {
    fail(2, "--token-file " + path + " is empty");
  }
  return line.substr(first, last - first + 1);
}

// 7d, 12h, 30m, 90s or plain seconds.
std::chrono::seconds parse_ttl(const std::string& s) {
  if (s.empty()) {
    fail(2, "empty --ttl");
  }
  std::uint64_t unit = 1;
  std::string digits = s;
  switch (s.back()) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    case 's': unit = 1; break;
    default: digits.push_back('s'); break;
  }
  digits.pop_back();
  const auto n = parse_u64(digits, "--ttl");
  if (n > 10'000'000) {
    fail(2, "--ttl too long: " + s);
  }
  return std::chrono::seconds(n * unit);
}

v1::Role parse_role(const std::string& s) {
  if (s == "participant") {
    return v1::ROLE_PARTICIPANT;
  }
  if (s == "facilitator") {
    return v1::ROLE_FACILITATOR;
  }
  if (s == "observer") {
    return v1::ROLE_OBSERVER;
  }
  fail(2, "unknown role '" + s + "' (participant, facilitator, observer)");
}

Args parse(int argc, char** argv) {
  Args a;
  int i = 1;
  for (; i < argc; ++i) {
    std::string f = argv[i];
    if (f.rfind("--", 0) != 0) {
      break;
    }
    if (f == "--insecure") {
      a.insecure = true;
      continue;
    }
    if (i + 1 >= argc) {
      fail(2, "missing value for " + f);
    }
    std::string v = argv[++i];
    if (f == "--url") {
      a.url = v;
    } else if (f == "--name") {
      a.name = v;
    } else if (f == "--member-id") {
      a.member_id = v;
    } else if (f == "--token") {
      a.token = v;
    } else if (f == "--token-file") {
      a.token = read_token_file(v);
    } else if (f == "--ca-file") {
      a.ca_file = v;
    } else if (f == "--timeout") {
      a.timeout = std::chrono::seconds(parse_u64(v, "--timeout"));
    } else {
      fail(2, "unknown option " + f);
    }
  }
  if (i >= argc) {
    fail(2, "no command");
  }
  a.command = argv[i++];
  for (; i < argc; ++i) {
    std::string f = argv[i];
    if (f.rfind("--", 0) == 0 && f.size() > 2) {
      if (is_switch(f)) {
        a.flags[f] = "";
      } else if (i + 1 < argc) {
        a.flags[f] = argv[++i];
      } else {
        fail(2, "missing value for " + f);
      }
    } else {
      a.positional.push_back(f);
    }
  }
  return a;
}

// A stable member id from the display name, so that one person's CLI invocations are one member
// (their votes, their ideas).
std::string member_id_for(const std::string& name) {
  std::string id = "cli-";
  for (const char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      id.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (c == ' ' || c == '-' || c == '_') {
      id.push_back('-');
    }
  }
  return id.size() > 4 ? id.substr(0, 64) : "cli-guest";
}

std::string phase_name(v1::Phase p) {
  switch (p) {
    case v1::PHASE_COLLECT: return "collect";
    case v1::PHASE_GROUP: return "group";
    case v1::PHASE_VOTE: return "vote";
    case v1::PHASE_DISCUSS: return "discuss";
    case v1::PHASE_DONE: return "done";
    default: return "?";
  }
}

v1::Phase parse_phase(const std::string& s) {
  for (auto p :
       {v1::PHASE_COLLECT, v1::PHASE_GROUP, v1::PHASE_VOTE, v1::PHASE_DISCUSS, v1::PHASE_DONE}) {
    if (phase_name(p) == s) {
      return p;
    }
  }
  fail(2, "unknown phase '" + s + "' (collect, group, vote, discuss, done)");
}

// One line per event: "SEQ ACTOR KIND details".
std::string describe(const v1::Event& e) {
  const std::string who = e.has_room_archived()           ? "(operator)"
                          : e.actor().member_id().empty() ? "(anonymous)"
                                                          : e.actor().display_name();
  std::string what;
  switch (e.payload_case()) {
    case v1::Event::kRoomCreated: what = "created the room: " + e.room_created().title(); break;
    case v1::Event::kMemberJoined: what = "joined"; break;
    case v1::Event::kChatPosted: what = "says: " + e.chat_posted().text(); break;
    case v1::Event::kGoalSet: what = "set the goal: " + e.goal_set().goal().objective(); break;
    case v1::Event::kRoleSet: what = "set a role for " + e.role_set().member_id(); break;
    case v1::Event::kPhaseChanged:
      what = "moved to " + phase_name(e.phase_changed().phase());
      break;
    case v1::Event::kVotingSet:
      what = "set the vote budget to " + std::to_string(e.voting_set().budget());
      break;
    case v1::Event::kIdeaPosted:
      what = "posted idea " + std::to_string(e.seq()) + ": " +
             (e.idea_posted().hidden() && e.idea_posted().text().empty() ? "(hidden)"
                                                                         : e.idea_posted().text());
      break;
    case v1::Event::kVoteCast: what = "voted for " + std::to_string(e.vote_cast().idea_id()); break;
    case v1::Event::kActionCreated:
      what = "created action " + std::to_string(e.seq()) + ": " + e.action_created().title();
      break;
    case v1::Event::kRoomArchived:
      what = "archived the room" +
             (e.room_archived().reason().empty() ? "" : ": " + e.room_archived().reason());
      break;
    default: {
      // Every other event: its payload's name.
      const auto* field = e.GetDescriptor()->FindFieldByNumber(e.payload_case());
      what = field != nullptr ? field->name() : "event";
    }
  }
  return std::to_string(e.seq()) + " " + who + " " + what;
}

std::string to_json(const google::protobuf::Message& m) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out);
  return out;
}

class Cli {
 public:
  explicit Cli(const Args& a) : args_(a) {
    huddle::ClientOptions o;
    o.url = a.url;
    o.token = a.token;
    o.ca_file = a.ca_file;
    o.tls_verify = !a.insecure;
    if (a.insecure) {
      std::cerr << "huddle: warning: --insecure: the server's certificate is not verified"
                << std::endl;
    }
    // With a token the server takes the member id and name from it.
    o.display_name = !a.name.empty() || !a.token.empty() ? a.name : "guest";
    o.member_id = !a.member_id.empty()                 ? a.member_id
                  : a.name.empty() || !a.token.empty() ? ""
                                                       : member_id_for(a.name);
    o.reconnect_max = 1s;
    o.on_fatal = [this](const huddle::Failure& f) {
      std::lock_guard lock(mu_);
      fatal_ = f;
      cv_.notify_all();
    };
    client_ = std::make_unique<huddle::Client>(io_.get_executor(), o);
    thread_ = std::thread([this] { io_.run(); });
    client_->start();
  }
  ~Cli() {
    client_->stop();
    guard_.reset();
    thread_.join();
  }
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;

  // The Client gave up (refused token, untrusted certificate): exit with its one-line reason.
  [[noreturn]] static void fail_fatal(const huddle::Failure& f) {
    fail(f.error == huddle::FatalError::kTlsVerification ? 2 : 1, f.message);
  }

  // Waits for a reply; an unreachable server is exit 2, a rejection exit 1.
  huddle::CommandResult await(std::future<huddle::CommandResult> f, const std::string& what) {
    if (f.wait_for(args_.timeout) != std::future_status::ready) {
      fail(2, what + ": no answer from " + args_.url + " (is the server running?)");
    }
    return check(f.get(), what);
  }

  // A result: a rejection is exit 1, a fatal client error its own.
  huddle::CommandResult check(huddle::CommandResult r, const std::string& what) {
    if (r.client_error == huddle::ClientError::kFatal) {
      fail_fatal(client_->fatal_error());
    }
    if (!r.ok()) {
      const auto code =
          r.code != v1::ERROR_CODE_UNSPECIFIED ? v1::ErrorCode_Name(r.code) : "CLIENT";
      fail(1, what + ": " + code + ": " + r.message);
    }
    return r;
  }

  // Joins `room` (a member joins a public room on first use; --invite admits to a private one)
  // and waits for its board.
  void join(const std::string& room, bool print_live = false) {
    struct State {
      bool ready = false;
      std::optional<huddle::CommandResult> refused;
    };
    auto state = std::make_shared<State>();
    huddle::RoomHandlers h;
    h.on_ready = [this, state](const huddle::BoardMirror&) {
      std::lock_guard lock(mu_);
      state->ready = true;
      cv_.notify_all();
    };
    h.on_join_error = [this, state](const huddle::CommandResult& r) {
      std::lock_guard lock(mu_);
      state->refused = r;
      cv_.notify_all();
    };
    h.on_event = [this, print_live](const v1::Event& e, const huddle::BoardMirror&) {
      if (print_live) {
        std::lock_guard lock(mu_);
        live_.push_back(e);
        cv_.notify_all();
      }
    };
    auto it = args_.flags.find("--invite");
    client_->join(room, std::move(h), it == args_.flags.end() ? "" : it->second);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, args_.timeout,
                 [&] { return state->ready || state->refused || fatal_.has_value(); });
    if (state->ready) {
      return;
    }
    if (fatal_) {
      const auto f = *fatal_;
      lock.unlock();
      fail_fatal(f);
    }
    if (state->refused) {
      const auto code = state->refused->code;
      std::string hint;
      if (code == v1::ERROR_CODE_PERMISSION_DENIED) {
        hint = args_.flags.contains("--invite") ? " (the invite is not valid for this room)"
                                                : " (a private room: join with --invite)";
      }
      fail(1, "cannot join " + room + ": " + v1::ErrorCode_Name(code) + hint);
    }
    lock.unlock();
    const auto errors = client_->errors();
    fail(2, "cannot join " + room +
                (errors.empty() ? " (is the server running at " + args_.url + "?)"
                                : ": " + errors.back()));
  }

  v1::BoardSnapshot board(const std::string& room) { return client_->board(room).get(); }
  huddle::Client& client() { return *client_; }

  // Live events queued by join(room, true); waits up to `timeout` for one.
  std::optional<v1::Event> next_live(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !live_.empty(); })) {
      return std::nullopt;
    }
    auto e = live_.front();
    live_.pop_front();
    return e;
  }

 private:
  const Args& args_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  std::unique_ptr<huddle::Client> client_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::Event> live_;
  std::optional<huddle::Failure> fatal_;
};

const std::string& arg(const Args& a, std::size_t i, const char* what) {
  if (a.positional.size() <= i) {
    fail(2, std::string("missing ") + what + "\n" + kUsage);
  }
  return a.positional[i];
}

std::string flag(const Args& a, const std::string& f, const std::string& def = "") {
  auto it = a.flags.find(f);
  return it == a.flags.end() ? def : it->second;
}

// The member a NAME means: a member id, or a display name (case-insensitive), in the roster.
std::string resolve_member(const v1::BoardSnapshot& b, const std::string& name) {
  auto lower = [](std::string s) {
    for (auto& c : s) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
  };
  for (const auto& m : b.roster()) {
    if (m.member().member_id() == name || lower(m.member().display_name()) == lower(name)) {
      return m.member().member_id();
    }
  }
  fail(1, "no member named '" + name + "' in the room (they must have joined once)");
}

void print_event(const v1::Event& e, bool json) {
  std::cout << (json ? to_json(e) : describe(e)) << std::endl;
}

int run_tail(Cli& cli, const Args& a, const std::string& room) {
  const bool json = a.flags.contains("--json");
  const std::uint64_t since =
      a.flags.contains("--since") ? parse_u64(flag(a, "--since"), "--since") : 0;
  cli.join(room, /*print_live=*/true);
  const auto head = cli.board(room).seq();
  // History (since, head], newest page first, printed oldest first.
  std::vector<v1::Event> history;
  std::uint64_t before = head + 1;
  while (before > since + 1) {
    v1::ClientFrame f;
    f.mutable_get_history()->set_room_id(room);
    f.mutable_get_history()->set_before_seq(before);
    f.mutable_get_history()->set_limit(200);
    const auto page = cli.await(cli.client().send(std::move(f)), "history").reply.history();
    if (page.events().empty()) {
      break;
    }
    history.insert(history.begin(), page.events().begin(), page.events().end());
    if (!page.has_more()) {
      break;
    }
    before = page.events(0).seq();
  }
  for (const auto& e : history) {
    if (e.seq() > since) {
      print_event(e, json);
    }
  }
  if (!a.flags.contains("--follow")) {
    return 0;
  }
  for (;;) {
    if (auto e = cli.next_live(1s); e && e->seq() > head) {
      print_event(*e, json);
    }
  }
}

int run_interactive(Cli& cli, const std::string& room) {
  cli.join(room, /*print_live=*/true);
  std::cout << "joined " << room << " (phase " << phase_name(cli.board(room).phase().phase())
            << "). Type to chat; /idea TEXT, /vote ID, /phase NAME, /quit." << std::endl;
  std::atomic<bool> done{false};
  std::thread printer([&] {
    while (!done) {
      if (auto e = cli.next_live(200ms)) {
        print_event(*e, false);
      }
    }
  });
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) {
      continue;
    }
    try {
      v1::ClientFrame f;
      if (line == "/quit") {
        break;
      } else if (line.rfind("/idea ", 0) == 0) {
        f.mutable_post_idea()->set_room_id(room);
        f.mutable_post_idea()->set_text(line.substr(6));
      } else if (line.rfind("/vote ", 0) == 0) {
        f.mutable_vote()->set_room_id(room);
        f.mutable_vote()->set_idea_id(parse_u64(line.substr(6), "/vote"));
      } else if (line.rfind("/phase ", 0) == 0) {
        f.mutable_set_phase()->set_room_id(room);
        f.mutable_set_phase()->set_phase(parse_phase(line.substr(7)));
      } else {
        f.mutable_post_chat()->set_room_id(room);
        f.mutable_post_chat()->set_text(line);
      }
      cli.await(cli.client().send(std::move(f)), "command");
    } catch (const Failure& failure) {
      std::cout << "! " << failure.message << std::endl;
    }
  }
  done = true;
  printer.join();
  return 0;
}

int run(const Args& a) {
  Cli cli(a);
  const auto& cmd = a.command;
  if (cmd == "rooms") {
    const auto r = cli.await(cli.client().list_rooms(), "rooms");
    for (const auto& room : r.reply.rooms().rooms()) {
      std::cout << room.room_id() << "\t" << room.title() << std::endl;
    }
    return 0;
  }
  const auto& room = arg(a, 0, "ROOM");
  if (cmd == "create") {
    v1::ClientFrame f;
    auto* c = f.mutable_create_room();
    c->set_room_id(room);
    c->set_title(flag(a, "--title"));
    c->mutable_goal()->set_objective(flag(a, "--goal"));
    c->set_anonymous(a.flags.contains("--anonymous"));
    c->set_hide_ideas(a.flags.contains("--hide-ideas"));
    c->set_private_room(a.flags.contains("--private"));
    cli.await(cli.client().send(std::move(f)), "create");
    std::cout << "created " << room << std::endl;
    return 0;
  }
  if (cmd == "tail") {
    return run_tail(cli, a, room);
  }
  if (cmd == "invite") {
    const auto role = parse_role(flag(a, "--role", "participant"));
    const auto ttl = a.flags.contains("--ttl") ? parse_ttl(flag(a, "--ttl")) : 0s;
    cli.join(room);
    auto f = cli.client().create_invite(room, role, ttl);
    if (f.wait_for(a.timeout) != std::future_status::ready) {
      fail(2, "invite: no answer from " + a.url);
    }
    auto invite = f.get();
    cli.check(invite.result, "invite");
    std::cout << invite.invite << std::endl;
    return 0;
  }
  if (cmd == "join") {
    return run_interactive(cli, room);
  }
  cli.join(room);
  if (cmd == "chat") {
    const auto r = cli.await(cli.client().post_chat(room, arg(a, 1, "TEXT")), "chat");
    std::cout << r.seq() << std::endl;
  } else if (cmd == "idea") {
    const auto r = cli.await(cli.client().post_idea(room, arg(a, 1, "TEXT")), "idea");
    std::cout << r.seq() << std::endl;
  } else if (cmd == "vote") {
    const auto idea = parse_u64(arg(a, 1, "IDEA"), "IDEA");
    cli.await(cli.client().vote(room, idea), "vote");
    const auto b = cli.board(room);
    std::uint32_t mine = 0;
    for (const auto& m : b.roster()) {
      if (m.member().member_id() == cli.client().member_id()) {
        mine = m.votes_cast();
      }
    }
    std::cout << "voted for " << idea << "; "
              << b.voting().budget() - std::min(mine, b.voting().budget()) << " votes left"
              << std::endl;
  } else if (cmd == "phase") {
    v1::ClientFrame f;
    f.mutable_set_phase()->set_room_id(room);
    f.mutable_set_phase()->set_phase(parse_phase(arg(a, 1, "PHASE")));
    if (a.flags.contains("--timer")) {
      f.mutable_set_phase()->set_timer_minutes(
          static_cast<std::uint32_t>(parse_u64(flag(a, "--timer"), "--timer")));
    }
    cli.await(cli.client().send(std::move(f)), "phase");
    std::cout << "phase " << arg(a, 1, "PHASE") << std::endl;
  } else if (cmd == "action") {
    if (!a.flags.contains("--owner")) {
      fail(2, "action needs --owner NAME");
    }
    v1::ClientFrame f;
    auto* c = f.mutable_create_action();
    c->set_room_id(room);
    c->set_title(arg(a, 1, "TITLE"));
    c->set_owner_id(resolve_member(cli.board(room), flag(a, "--owner")));
    c->set_due_date(flag(a, "--due"));
    if (a.flags.contains("--idea")) {
      c->set_idea_id(parse_u64(flag(a, "--idea"), "--idea"));
    }
    const auto r = cli.await(cli.client().send(std::move(f)), "action");
    std::cout << r.seq() << std::endl;
  } else if (cmd == "export") {
    const auto format = flag(a, "--format", "md");
    const auto f = format == "md"     ? v1::EXPORT_FORMAT_MARKDOWN
                   : format == "csv"  ? v1::EXPORT_FORMAT_CSV
                   : format == "json" ? v1::EXPORT_FORMAT_JSON
                                      : v1::EXPORT_FORMAT_UNSPECIFIED;
    if (f == v1::EXPORT_FORMAT_UNSPECIFIED) {
      fail(2, "--format must be md, csv or json");
    }
    std::cout << cli.await(cli.client().export_board(room, f), "export").reply.export_().body();
  } else {
    fail(2, "unknown command " + cmd + "\n" + kUsage);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
      std::cout << kUsage;
      return 0;
    }
    return run(parse(argc, argv));
  } catch (const Failure& f) {
    std::cerr << "huddle: " << f.message << std::endl;
    return f.code;
  } catch (const std::exception& e) {
    std::cerr << "huddle: " << e.what() << std::endl;
    return 2;
  }
}
