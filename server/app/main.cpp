// huddle-server: flags, environment (HUDDLE_*) and config file -> ServerOptions -> Server;
// SIGINT/SIGTERM -> graceful stop.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include "core/common/ids.hpp"
#include "server/app/server.hpp"
#include "server/auth/jwt.hpp"
#include "server/store/rocksdb_event_log.hpp"
#include "server/util/log.hpp"

#include <malloc.h>

namespace {

constexpr std::string_view kUsage = R"(huddle-server: real-time brainstorming and chat server

Usage: huddle-server [options]
       huddle-server backup --data-dir DIR --to NEW_DIR
                            a consistent copy of the store, safe while the server runs;
                            start a server on NEW_DIR to restore (it has a new epoch, so
                            clients resuming against it are RESET)
       huddle-server token --jwt-secret-file FILE --sub ID [--name NAME]
                           [--room ROOM --role facilitator|participant|observer]... [--ttl 8h]
                           [--jwt-issuer ISS] [--jwt-audience AUD]
                            print a member token (HS256) for --auth jwt, as its last line

  --listen HOST:PORT        address to serve HTTP and WebSocket on (default 127.0.0.1:8080;
                            port 0 picks a free port)
  --data-dir DIR            RocksDB store directory (default ./data; created if missing)
  --durability sync|wal     sync: fsync every commit group, survives power loss (default);
                            wal: WAL without fsync, survives a process crash only
  --threads N               I/O threads (shards); default: one per core
  --ephemeral               keep everything in memory (nothing survives a restart)
  --storage-reserve-mb N    free space to keep on the data dir's filesystem (default 64; 0 = no
                            check): below it writes fail with STORAGE_FULL (retryable) until
                            space returns; reads and live rooms go on
  --room-idle-seconds N     drop a room from memory after N s with no member (default 300; 0 =
                            never); it reloads from snapshot + tail on the next join
  --max-ideas N             live ideas on one board, else LIMIT_EXCEEDED (default 2000, at most
                            100000); the whole-board snapshot grows with it (2000 short ideas:
                            ~370 KB), so clients of big boards join with snapshotIdeas + getIdeas
  --port-file FILE          write the bound port to FILE once listening (for scripts and tests)
  --admin-token-file FILE   turn on the admin API (/api/v1/admin): its bearer token is the
                            first line of FILE (at least 16 characters); off by default
  --web-dir DIR             the web client's files, served at / and /r/ROOM (default: the
                            source tree's web/; empty: no web client)
 Authentication and access:
  --auth open|jwt           open: guest display names, loopback only (default); jwt: a token
                            in hello (HS256 with --jwt-secret-file, RS256/ES256 with
                            --jwt-public-key; exp, iss, aud and sub required)
  --jwt-secret-file FILE    HS256 secret (at least 32 bytes)
  --jwt-public-key FILE     PEM public key: RSA -> RS256, EC P-256 -> ES256
  --jwt-issuer ISS          required iss (default huddle)
  --jwt-audience AUD        required aud (default huddle)
  --jwt-leeway-seconds N    clock leeway for exp and nbf (default 10)
  --allow-open-auth-on-public   allow --auth open on a non-loopback address (warns)
  --allowed-origin ORIGIN   a browser Origin allowed to connect, exactly (repeatable; default:
                            the server's own origin only)
  --invite-key-file FILE    key that signs invite links (default DATA_DIR/invite.key, created)
  --tls-cert FILE --tls-key FILE    serve https and wss only (TLS 1.2+), PEM files
 Abuse limits (0 = none):
  --auth-timeout-seconds N  upgrade to a successful hello, else close 4002 (default 10)
  --command-rate N          commands per second per connection (default 20), burst
  --command-burst N         (default 40); past it RATE_LIMITED, and close 4029 if it goes on
  --frames-per-second N     messages per second per connection, else close 4029 (default 200)
  --max-connections N       TCP connections in all, else HTTP 503 (default 20000)
  --max-connections-per-ip N    from one address, else HTTP 503 (default 512)
  --max-rooms-per-connection N  joined rooms (default 64)
  --max-members-per-room N  joined connections per room, else LIMIT_EXCEEDED (default 10000)
  --log-level SPEC          a level (trace|debug|info|warn|error|off), then optional
                            module=level pairs for app, net, room, store (default info;
                            e.g. info,net=debug)
  --log-format text|json    key=value lines, or one JSON object a line (default text)
  --config FILE             read options from FILE: one `name = value` a line (INI, the names
                            above without --; # comments)
  --print-config            print the effective configuration, with where each value came
                            from, and exit
  --help                    this text

Every option can also come from the environment: HUDDLE_ + the name in capitals with _ for -
(HUDDLE_LISTEN, HUDDLE_DATA_DIR, HUDDLE_EPHEMERAL=true, ...). A flag beats the environment,
which beats the config file, which beats the default.

Endpoints: GET /healthz and /readyz (JSON), GET /metrics (Prometheus), GET /api/v1/rooms/ID/export
?format=md, the admin API under /api/v1/admin, the web client at /, WebSocket /ws with
subprotocol huddle.v1+proto or huddle.v1+json.
)";

namespace po = boost::program_options;

struct Args {
  huddle::app::ServerOptions options;
  std::string port_file;
  std::string log_level = "info";
  std::string log_format = "text";
  bool print_config = false;
  std::vector<std::pair<std::string, std::string>> effective;  // name -> "value  (source)"
};

// The options every source can set, with their defaults (as text, as a user would write them).
po::options_description server_options() {
  po::options_description d("huddle-server");
  d.add_options()("listen", po::value<std::string>()->default_value("127.0.0.1:8080"), "")(
      "data-dir", po::value<std::string>()->default_value("./data"), "")(
      "durability", po::value<std::string>()->default_value("sync"), "")(
      "threads", po::value<int>()->default_value(0), "")(
      "ephemeral", po::value<bool>()->default_value(false)->implicit_value(true), "")(
      "storage-reserve-mb", po::value<long long>()->default_value(64), "")(
      "rocksdb-write-buffer-kb", po::value<long long>()->default_value(0), "")(
      "room-tail-events", po::value<long long>()->default_value(0), "")(
      "room-idle-seconds", po::value<long long>()->default_value(300), "")(
      "max-ideas", po::value<long long>()->default_value(2000), "")(
      "port-file", po::value<std::string>()->default_value(""), "")(
      "admin-token-file", po::value<std::string>()->default_value(""), "")(
      "web-dir", po::value<std::string>()->default_value(HUDDLE_WEB_DIR), "")(
      "log-level", po::value<std::string>()->default_value("info"), "")(
      "log-format", po::value<std::string>()->default_value("text"), "")(
      "auth", po::value<std::string>()->default_value("open"), "")(
      "jwt-secret-file", po::value<std::string>()->default_value(""), "")(
      "jwt-public-key", po::value<std::string>()->default_value(""), "")(
      "jwt-issuer", po::value<std::string>()->default_value("huddle"), "")(
      "jwt-audience", po::value<std::string>()->default_value("huddle"), "")(
      "jwt-leeway-seconds", po::value<long long>()->default_value(10), "")(
      "allow-open-auth-on-public", po::value<bool>()->default_value(false)->implicit_value(true),
      "")("allowed-origin", po::value<std::vector<std::string>>()->composing(), "")(
      "invite-key-file", po::value<std::string>()->default_value(""), "")(
      "tls-cert", po::value<std::string>()->default_value(""), "")(
      "tls-key", po::value<std::string>()->default_value(""), "")(
      "auth-timeout-seconds", po::value<long long>()->default_value(10), "")(
      "command-rate", po::value<double>()->default_value(20), "")(
      "command-burst", po::value<double>()->default_value(40), "")(
      "frames-per-second", po::value<long long>()->default_value(200), "")(
      "max-connections", po::value<long long>()->default_value(20000), "")(
      "max-connections-per-ip", po::value<long long>()->default_value(512), "")(
      "max-rooms-per-connection", po::value<long long>()->default_value(64), "")(
      "max-members-per-room", po::value<long long>()->default_value(10000), "");
  return d;
}

long long in_range(const po::variables_map& vm, const char* name, long long lo, long long hi) {
  const auto v = vm[name].as<long long>();
  if (v < lo || v > hi) {
    throw std::invalid_argument(std::string(name) + " is " + std::to_string(lo) + ".." +
                                std::to_string(hi));
  }
  return v;
}

// --auth, JWT keys, origins, TLS and the abuse limits.
void parse_security(const po::variables_map& vm, huddle::app::ServerOptions& o) {
  auto& auth = o.net.auth;
  const auto mode = vm["auth"].as<std::string>();
  if (mode != "open" && mode != "jwt") {
    throw std::invalid_argument("auth is open or jwt");
  }
  auth.mode =
      mode == "jwt" ? huddle::net::AuthOptions::Mode::kJwt : huddle::net::AuthOptions::Mode::kOpen;
  const auto secret = vm["jwt-secret-file"].as<std::string>();
  const auto public_key = vm["jwt-public-key"].as<std::string>();
  if (!secret.empty() && !public_key.empty()) {
    throw std::invalid_argument("give --jwt-secret-file or --jwt-public-key, not both");
  }
  std::string error;
  if (!secret.empty()) {
    auth.jwt_key = huddle::auth::load_secret_file(secret, error);
  } else if (!public_key.empty()) {
    auth.jwt_key = huddle::auth::load_public_key_file(public_key, error);
  }
  if (!error.empty()) {
    throw std::invalid_argument(error);
  }
  if (auth.mode == huddle::net::AuthOptions::Mode::kJwt && !auth.jwt_key) {
    throw std::invalid_argument("--auth jwt needs --jwt-secret-file or --jwt-public-key");
  }
  auth.jwt_policy.issuer = vm["jwt-issuer"].as<std::string>();
  auth.jwt_policy.audience = vm["jwt-audience"].as<std::string>();
  auth.jwt_policy.leeway_s = in_range(vm, "jwt-leeway-seconds", 0, 600);
  o.allow_open_auth_on_public = vm["allow-open-auth-on-public"].as<bool>();
  if (vm.count("allowed-origin") != 0) {
    auth.allowed_origins = vm["allowed-origin"].as<std::vector<std::string>>();
  }
  o.invite_key_file = vm["invite-key-file"].as<std::string>();
  o.tls_cert_file = vm["tls-cert"].as<std::string>();
  o.tls_key_file = vm["tls-key"].as<std::string>();
  auth.auth_timeout = std::chrono::seconds(in_range(vm, "auth-timeout-seconds", 0, 3600));
  auto& limits = o.net.limits;
  limits.commands_per_s = vm["command-rate"].as<double>();
  limits.command_burst = vm["command-burst"].as<double>();
  if (limits.commands_per_s < 0 || limits.command_burst < 1) {
    throw std::invalid_argument("command-rate >= 0 (0: no limit), command-burst >= 1");
  }
  limits.frames_per_s = static_cast<std::size_t>(in_range(vm, "frames-per-second", 0, 1'000'000));
  limits.max_connections = static_cast<std::size_t>(in_range(vm, "max-connections", 0, 10'000'000));
  limits.max_connections_per_ip =
      static_cast<std::size_t>(in_range(vm, "max-connections-per-ip", 0, 10'000'000));
  o.net.max_rooms_per_connection =
      static_cast<std::size_t>(in_range(vm, "max-rooms-per-connection", 1, 100'000));
  o.room.max_members =
      static_cast<std::size_t>(in_range(vm, "max-members-per-room", 0, 10'000'000));
}

Args parse(int argc, char** argv) {
  Args args;
  auto options = server_options();
  po::options_description cli_only;
  cli_only.add_options()("config", po::value<std::string>(), "")("print-config", "")("help,h", "");
  po::options_description cli;
  cli.add(options).add(cli_only);

  // po::store keeps the first value it sees: flags, then the environment, then the file.
  po::variables_map vm;
  std::map<std::string, std::string> source;
  const auto note = [&](const char* from) {
    for (const auto& [name, value] : vm) {
      if (!value.defaulted() && !source.contains(name)) {
        source[name] = from;
      }
    }
  };
  po::store(po::command_line_parser(argc, argv)
                .options(cli)
                .style(po::command_line_style::unix_style & ~po::command_line_style::allow_guessing)
                .run(),
            vm);
  note("flag");
  if (vm.count("help") != 0) {
    std::cout << kUsage;
    std::exit(0);
  }
  po::store(
      po::parse_environment(
          options,
          [&](const std::string& env) -> std::string {
            if (env.rfind("HUDDLE_", 0) != 0) {
              return {};
            }
            std::string name;
            for (const char c : env.substr(7)) {
              name.push_back(
                  c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
            }
            return options.find_nothrow(name, false) != nullptr ? name : "";
          }),
      vm);
  note("environment");
  if (vm.count("config") != 0) {
    const auto path = vm["config"].as<std::string>();
    std::ifstream file(path);
    if (!file) {
      throw std::invalid_argument("cannot read --config " + path);
    }
    po::store(po::parse_config_file(file, options, /*allow_unregistered=*/false), vm);
    note(("config file " + path).c_str());
  }
  po::notify(vm);
  args.print_config = vm.count("print-config") != 0;

  const auto hp = vm["listen"].as<std::string>();
  const auto colon = hp.rfind(':');
  if (colon == std::string::npos) {
    throw std::invalid_argument("listen wants HOST:PORT");
  }
  args.options.host = hp.substr(0, colon);
  const int port = std::stoi(hp.substr(colon + 1));
  if (port < 0 || port > 65535) {
    throw std::invalid_argument("listen: port out of range");
  }
  args.options.port = static_cast<std::uint16_t>(port);
  args.options.data_dir = vm["data-dir"].as<std::string>();
  const auto d = vm["durability"].as<std::string>();
  if (d != "sync" && d != "wal") {
    throw std::invalid_argument("durability is sync or wal");
  }
  args.options.durability =
      d == "sync" ? huddle::store::Durability::kSync : huddle::store::Durability::kWal;
  const int threads = vm["threads"].as<int>();
  if (threads < 0 || threads > 256) {
    throw std::invalid_argument("threads is 1..256 (0: one per core)");
  }
  args.options.threads = static_cast<std::size_t>(threads);
  args.options.ephemeral = vm["ephemeral"].as<bool>();
  const auto reserve_mb = vm["storage-reserve-mb"].as<long long>();
  if (reserve_mb < 0 || reserve_mb > 1024LL * 1024) {
    throw std::invalid_argument("storage-reserve-mb is 0..1048576");
  }
  args.options.storage_reserve_bytes = static_cast<std::uint64_t>(reserve_mb) << 20U;
  // Testing only (not in --help): small memtables make flushes and compactions frequent.
  const auto write_buffer_kb = vm["rocksdb-write-buffer-kb"].as<long long>();
  if (write_buffer_kb < 0 || write_buffer_kb > 4LL * 1024 * 1024) {
    throw std::invalid_argument("rocksdb-write-buffer-kb is 0..4194304");
  }
  args.options.rocksdb_write_buffer_bytes = static_cast<std::size_t>(write_buffer_kb) << 10U;
  // Testing only (not in --help): a room's in-memory windows (event tail, EXACT resume, op-id
  // dedup) hold at most N events, so they fill within a soak's warm-up minute and its RSS slope
  // measures leaks rather than 200 rooms' windows filling (2048 and 4096 events by default).
  const auto tail = vm["room-tail-events"].as<long long>();
  if (tail < 0 || tail > 1'000'000) {
    throw std::invalid_argument("room-tail-events is 0..1000000");
  }
  if (tail > 0) {
    args.options.room.tail_events = static_cast<std::size_t>(tail);
    auto& room = args.options.room;
    room.max_resume_events = std::min(room.max_resume_events, room.tail_events);
    room.dedup_window = std::min(room.dedup_window, room.tail_events);
  }
  const auto idle = vm["room-idle-seconds"].as<long long>();
  if (idle < 0 || idle > 30LL * 24 * 3600) {
    throw std::invalid_argument("room-idle-seconds is 0..2592000");
  }
  args.options.room.idle_eviction_ms = idle * 1000;
  args.options.room.board.max_ideas =
      static_cast<std::size_t>(in_range(vm, "max-ideas", 1, 100'000));
  args.port_file = vm["port-file"].as<std::string>();
  args.options.net.web_dir = vm["web-dir"].as<std::string>();
  if (const auto token_file = vm["admin-token-file"].as<std::string>(); !token_file.empty()) {
    std::ifstream in(token_file);
    std::string token;
    if (!in || !std::getline(in, token)) {
      throw std::invalid_argument("cannot read --admin-token-file " + token_file);
    }
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) {
      token.pop_back();
    }
    if (token.size() < 16) {
      throw std::invalid_argument("--admin-token-file: the token needs at least 16 characters");
    }
    args.options.net.admin_token = token;
  }
  args.log_level = vm["log-level"].as<std::string>();
  args.log_format = vm["log-format"].as<std::string>();
  parse_security(vm, args.options);

  for (const auto& opt : options.options()) {
    const auto& name = opt->long_name();
    const auto& v = vm[name];
    std::string text;
    if (const auto* str = boost::any_cast<std::string>(&v.value())) {
      text = *str;
    } else if (const auto* i = boost::any_cast<int>(&v.value())) {
      text = std::to_string(*i);
    } else if (const auto* l = boost::any_cast<long long>(&v.value())) {
      text = std::to_string(*l);
    } else if (const auto* b = boost::any_cast<bool>(&v.value())) {
      text = *b ? "true" : "false";
    } else if (const auto* dbl = boost::any_cast<double>(&v.value())) {
      text = std::to_string(*dbl);
    } else if (const auto* list = boost::any_cast<std::vector<std::string>>(&v.value())) {
      for (const auto& item : *list) {
        text += (text.empty() ? "" : " ") + item;
      }
    }
    args.effective.emplace_back(name,
                                text + "  # " + (source.contains(name) ? source[name] : "default"));
  }
  return args;
}

// A subcommand's flags (no abbreviations), into `vm`. Throws on a bad or missing flag.
void parse_subcommand(int argc, char** argv, const po::options_description& d,
                      po::variables_map& vm) {
  po::store(po::command_line_parser(argc, argv)
                .options(d)
                .style(po::command_line_style::unix_style & ~po::command_line_style::allow_guessing)
                .run(),
            vm);
  po::notify(vm);
}

// `huddle-server backup --data-dir DIR --to NEW_DIR`.
int run_backup(int argc, char** argv) {
  po::options_description d("huddle-server backup");
  d.add_options()("data-dir", po::value<std::string>()->required(), "")(
      "to", po::value<std::string>()->required(), "");
  po::variables_map vm;
  try {
    parse_subcommand(argc, argv, d, vm);
  } catch (const std::exception& e) {
    std::cerr << "huddle-server backup: " << e.what()
              << " (usage: huddle-server backup --data-dir DIR --to NEW_DIR)\n";
    return 2;
  }
  const auto from = vm["data-dir"].as<std::string>();
  const auto to = vm["to"].as<std::string>();
  const auto start = std::chrono::steady_clock::now();
  auto stats = huddle::store::RocksDbEventLog::backup(from, to);
  if (!stats) {
    std::cerr << "huddle-server backup: " << from << " -> " << to << ": "
              << (stats.error() == huddle::Errc::kInvalidArgument
                      ? std::string("the target exists and is not empty")
                  : stats.error() == huddle::Errc::kInternal
                      ? std::string("no Huddle store at the source")
                      : stats.error().message())
              << "\n";
    return 1;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::cout << "backup " << from << " (epoch " << stats->source_epoch.value() << ") -> " << to
            << " (epoch " << stats->epoch.value() << "): rooms=" << stats->rooms
            << " events=" << stats->events << " keys=" << stats->keys << " bytes=" << stats->bytes
            << " ms=" << ms << std::endl;
  return 0;
}

// `huddle-server token --jwt-secret-file F --sub ID [--name N] [--room R --role ROLE]... [--ttl
// 8h]`.
int run_token(int argc, char** argv) {
  po::options_description d("huddle-server token");
  d.add_options()("jwt-secret-file", po::value<std::string>()->required(), "")(
      "sub", po::value<std::string>()->required(), "")(
      "name", po::value<std::string>()->default_value(""), "")(
      "room", po::value<std::vector<std::string>>()->composing(), "")(
      "role", po::value<std::vector<std::string>>()->composing(), "")(
      "ttl", po::value<std::string>()->default_value("8h"), "")(
      "jwt-issuer", po::value<std::string>()->default_value("huddle"), "")(
      "jwt-audience", po::value<std::string>()->default_value("huddle"), "");
  try {
    po::variables_map vm;
    parse_subcommand(argc, argv, d, vm);
    std::string error;
    auto key = huddle::auth::load_secret_file(vm["jwt-secret-file"].as<std::string>(), error);
    if (!key) {
      std::cerr << "huddle-server token: " << error << "\n";
      return 1;
    }
    huddle::auth::TokenSpec spec;
    spec.sub = vm["sub"].as<std::string>();
    spec.name = vm["name"].as<std::string>();
    if (!huddle::is_valid_member_id(spec.sub) || spec.name.size() > 64) {
      throw std::invalid_argument("--sub is [A-Za-z0-9_-]{1,64}, --name at most 64 bytes");
    }
    const auto rooms = vm.count("room") != 0 ? vm["room"].as<std::vector<std::string>>()
                                             : std::vector<std::string>{};
    const auto roles = vm.count("role") != 0 ? vm["role"].as<std::vector<std::string>>()
                                             : std::vector<std::string>{};
    if (roles.size() > rooms.size()) {
      throw std::invalid_argument("each --role follows a --room");
    }
    for (std::size_t i = 0; i < rooms.size(); ++i) {
      const auto role = huddle::auth::parse_grant_role(i < roles.size() ? roles[i] : "participant");
      if (!role || !huddle::is_valid_room_id(rooms[i])) {
        throw std::invalid_argument("--room is a room id, --role facilitator|participant|observer");
      }
      spec.rooms[rooms[i]] = *role;
    }
    const auto ttl = vm["ttl"].as<std::string>();
    std::size_t used = 0;
    const long long n = std::stoll(ttl, &used);
    const std::string unit = ttl.substr(used);
    const long long scale = unit == "s" || unit.empty() ? 1
                            : unit == "m"               ? 60
                            : unit == "h"               ? 3600
                            : unit == "d"               ? 86400
                                                        : 0;
    if (scale == 0 || n <= 0 || n * scale > 366LL * 86400) {
      throw std::invalid_argument("--ttl is N[s|m|h|d], at most a year");
    }
    spec.ttl_s = n * scale;
    spec.now_unix_s = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    huddle::auth::JwtPolicy policy;
    policy.issuer = vm["jwt-issuer"].as<std::string>();
    policy.audience = vm["jwt-audience"].as<std::string>();
    const auto token = huddle::auth::mint_member_token(*key, policy, spec);
    if (token.empty()) {
      std::cerr << "huddle-server token: cannot sign (is --name UTF-8?)\n";
      return 1;
    }
    std::cout << token << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "huddle-server token: " << e.what() << " (see --help)\n";
    return 2;
  }
}

// Big buffers (snapshots, idea pages, history pages: 100 KB to a few MB) come and go with every
// join. glibc maps each one over 128 KiB fresh and returns freed heap tops to the kernel, so every
// one page-faults its memory in again: in a 200-member join storm those page faults were a third
// of the server's CPU (perf). Keep them in the heap, and up to 32 MiB of freed heap per arena.
void tune_malloc() {
  mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
}

}  // namespace

int main(int argc, char** argv) {
  tune_malloc();
  if (argc > 1 && std::string_view(argv[1]) == "backup") {
    return run_backup(argc - 1, argv + 1);
  }
  if (argc > 1 && std::string_view(argv[1]) == "token") {
    return run_token(argc - 1, argv + 1);
  }
  Args args;
  try {
    args = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "huddle-server: " << e.what() << " (see --help)\n";
    return 2;
  }
  if (args.print_config) {
    for (const auto& [name, value] : args.effective) {
      std::cout << name << " = " << value << "\n";
    }
    return 0;
  }
  if (!huddle::log::set_levels(args.log_level)) {
    std::cerr << "huddle-server: bad --log-level " << args.log_level
              << " (a level, then module=level pairs: info,net=debug)\n";
    return 2;
  }
  if (!huddle::log::set_format(args.log_format)) {
    std::cerr << "huddle-server: --log-format is text or json\n";
    return 2;
  }
  huddle::app::Server server(args.options);
  if (auto ec = server.start()) {
    std::cerr << "huddle-server: cannot start: " << ec.message() << "\n";
    return 1;
  }
  if (!args.port_file.empty()) {
    std::ofstream(args.port_file) << server.port() << "\n";
  }
  const bool tls = !args.options.tls_cert_file.empty();
  const std::string scheme = tls ? "https" : "http";
  std::cout << "huddle-server is running.\n"
            << (args.options.net.web_dir.empty()
                    ? std::string()
                    : "  web:       " + scheme + "://" + args.options.host + ":" +
                          std::to_string(server.port()) + "/\n")
            << "  health:    " << scheme << "://" << args.options.host << ":" << server.port()
            << "/healthz\n"
            << "  websocket: " << (tls ? "wss" : "ws") << "://" << args.options.host << ":"
            << server.port()
            << "/ws  (subprotocol huddle.v1+json or huddle.v1+proto; see docs/PROTOCOL.md)\n"
            << "  data:      "
            << (args.options.ephemeral ? std::string("(in memory)") : args.options.data_dir)
            << "\nPress Ctrl-C to stop." << std::endl;

  boost::asio::io_context signals_ctx;
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    huddle::log::app()->info("stopping signal={}", sig);
  });
  signals_ctx.run();
  server.stop();
  return 0;
}
