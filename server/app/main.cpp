// huddle-server: flags, environment (HUDDLE_*) and config file -> ServerOptions -> Server;
// SIGINT/SIGTERM -> graceful stop.
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

#include "server/app/server.hpp"
#include "server/store/rocksdb_event_log.hpp"
#include "server/util/log.hpp"

namespace {

constexpr std::string_view kUsage = R"(huddle-server: real-time brainstorming and chat server

Usage: huddle-server [options]
       huddle-server backup --data-dir DIR --to NEW_DIR
                            a consistent copy of the store, safe while the server runs;
                            start a server on NEW_DIR to restore (it has a new epoch, so
                            clients resuming against it are RESET)

  --listen HOST:PORT        address to serve HTTP and WebSocket on (default 127.0.0.1:8080;
                            port 0 picks a free port)
  --data-dir DIR            RocksDB store directory (default ./data; created if missing)
  --durability sync|wal     sync: fsync every commit group, survives power loss (default);
                            wal: WAL without fsync, survives a process crash only
  --threads N               I/O threads (shards); default: one per core
  --ephemeral               keep everything in memory (nothing survives a restart)
  --room-idle-seconds N     drop a room from memory after N s with no member (default 300; 0 =
                            never); it reloads from snapshot + tail on the next join
  --port-file FILE          write the bound port to FILE once listening (for scripts and tests)
  --admin-token-file FILE   turn on the admin API (/api/v1/admin): its bearer token is the
                            first line of FILE (at least 16 characters); off by default
  --web-dir DIR             the web client's files, served at / and /r/ROOM (default: the
                            source tree's web/; empty: no web client)
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
      "room-idle-seconds", po::value<long long>()->default_value(300), "")(
      "port-file", po::value<std::string>()->default_value(""), "")(
      "admin-token-file", po::value<std::string>()->default_value(""), "")(
      "web-dir", po::value<std::string>()->default_value(HUDDLE_WEB_DIR), "")(
      "log-level", po::value<std::string>()->default_value("info"), "")(
      "log-format", po::value<std::string>()->default_value("text"), "");
  return d;
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
  const auto idle = vm["room-idle-seconds"].as<long long>();
  if (idle < 0 || idle > 30LL * 24 * 3600) {
    throw std::invalid_argument("room-idle-seconds is 0..2592000");
  }
  args.options.room.idle_eviction_ms = idle * 1000;
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
    }
    args.effective.emplace_back(name,
                                text + "  # " + (source.contains(name) ? source[name] : "default"));
  }
  return args;
}

// `huddle-server backup --data-dir DIR --to NEW_DIR`.
int run_backup(int argc, char** argv) {
  po::options_description d("huddle-server backup");
  d.add_options()("data-dir", po::value<std::string>()->required(), "")(
      "to", po::value<std::string>()->required(), "");
  po::variables_map vm;
  try {
    po::store(
        po::command_line_parser(argc, argv)
            .options(d)
            .style(po::command_line_style::unix_style & ~po::command_line_style::allow_guessing)
            .run(),
        vm);
    po::notify(vm);
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

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "backup") {
    return run_backup(argc - 1, argv + 1);
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
  std::cout << "huddle-server is running.\n"
            << (args.options.net.web_dir.empty() ? std::string()
                                                 : "  web:       http://" + args.options.host +
                                                       ":" + std::to_string(server.port()) + "/\n")
            << "  health:    http://" << args.options.host << ":" << server.port() << "/healthz\n"
            << "  websocket: ws://" << args.options.host << ":" << server.port()
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
