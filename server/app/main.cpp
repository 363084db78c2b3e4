// huddle-server: flags -> ServerOptions -> Server; SIGINT/SIGTERM -> graceful stop.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "server/app/server.hpp"
#include "server/util/log.hpp"

namespace {

constexpr std::string_view kUsage = R"(huddle-server: real-time brainstorming and chat server

Usage: huddle-server [options]
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
  --log-level LEVEL         trace|debug|info|warn|error|off (default info)
  --help                    this text

Endpoints: GET /healthz (JSON), GET /metrics (Prometheus), GET /api/v1/rooms/ID/export?format=md,
WebSocket /ws with subprotocol huddle.v1+proto or huddle.v1+json.
)";

struct Args {
  huddle::app::ServerOptions options;
  std::string port_file;
  std::string log_level = "info";
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw std::invalid_argument("missing value for " + std::string(flag));
      }
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (flag == "--listen") {
      auto hp = value();
      auto colon = hp.rfind(':');
      if (colon == std::string::npos) {
        throw std::invalid_argument("--listen wants HOST:PORT");
      }
      args.options.host = hp.substr(0, colon);
      const int port = std::stoi(hp.substr(colon + 1));
      if (port < 0 || port > 65535) {
        throw std::invalid_argument("--listen port out of range");
      }
      args.options.port = static_cast<std::uint16_t>(port);
    } else if (flag == "--data-dir") {
      args.options.data_dir = value();
    } else if (flag == "--durability") {
      auto d = value();
      if (d == "sync") {
        args.options.durability = huddle::store::Durability::kSync;
      } else if (d == "wal") {
        args.options.durability = huddle::store::Durability::kWal;
      } else {
        throw std::invalid_argument("--durability is sync or wal");
      }
    } else if (flag == "--threads") {
      const int n = std::stoi(value());
      if (n < 1 || n > 256) {
        throw std::invalid_argument("--threads is 1..256");
      }
      args.options.threads = static_cast<std::size_t>(n);
    } else if (flag == "--ephemeral") {
      args.options.ephemeral = true;
    } else if (flag == "--room-idle-seconds") {
      const long long n = std::stoll(value());
      if (n < 0 || n > 30LL * 24 * 3600) {
        throw std::invalid_argument("--room-idle-seconds is 0..2592000");
      }
      args.options.room.idle_eviction_ms = n * 1000;
    } else if (flag == "--port-file") {
      args.port_file = value();
    } else if (flag == "--log-level") {
      args.log_level = value();
    } else {
      throw std::invalid_argument("unknown flag " + std::string(flag) + " (see --help)");
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "huddle-server: " << e.what() << "\n";
    return 2;
  }
  if (!huddle::log::set_level(args.log_level)) {
    std::cerr << "huddle-server: unknown --log-level " << args.log_level << "\n";
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
            << "  health:    http://" << args.options.host << ":" << server.port() << "/healthz\n"
            << "  websocket: ws://" << args.options.host << ":" << server.port()
            << "/ws  (subprotocol huddle.v1+json or huddle.v1+proto; see docs/PROTOCOL.md)\n"
            << "  data:      "
            << (args.options.ephemeral ? std::string("(in memory)") : args.options.data_dir)
            << "\nPress Ctrl-C to stop." << std::endl;

  boost::asio::io_context signals_ctx;
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    huddle::log::app()->info("signal received sig={}; stopping", sig);
  });
  signals_ctx.run();
  server.stop();
  return 0;
}
