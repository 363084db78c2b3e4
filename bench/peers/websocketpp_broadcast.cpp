// websocketpp_broadcast: a "plain broadcast" peer server for Huddle's fan-out benchmarks.
//
// Protocol (shared with bench/peers/node-ws/server.js; see bench/peers/README.md):
//   - listen on 127.0.0.1:PORT (argv: `PORT` or `--port PORT`), print "listening on
//   127.0.0.1:PORT";
//   - WebSocket upgrade on /ws?room=NAME (member) or /ws?room=NAME&role=pub (publisher);
//   - every data message a client sends goes, unchanged and with the same opcode, to every member
//     of the sender's room except the sender; publishers never receive;
//   - exit cleanly on SIGTERM/SIGINT; one thread, one event loop.
//
// Built on Debian's libwebsocketpp-dev 0.8.2 with stock websocketpp::config::asio (no TLS,
// permessage-deflate not compiled in), logging channels cleared.
//
// Fan-out cost: the received message is turned into a ready-to-send server frame once (server
// frames are unmasked, so the bytes are identical for every receiver) and that same message_ptr
// is queued on every member connection. websocketpp's connection::send() queues a prepared
// message as-is, so the payload is never copied per receiver (an unprepared message would be
// copied into a fresh frame for every send() call).

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/frame.hpp>
#include <websocketpp/server.hpp>

namespace {

using server_t = websocketpp::server<websocketpp::config::asio>;
using connection_ptr = server_t::connection_ptr;
using message_ptr = server_t::message_ptr;
using websocketpp::connection_hdl;
namespace asio = websocketpp::lib::asio;

struct Room {
  // Members hold a strong reference (connection_ptr) while open: on_close removes it. This saves
  // a weak_ptr lock + cast per receiver per message compared with keeping connection_hdl.
  std::vector<connection_ptr> members;
};

struct ConnInfo {
  connection_ptr con;  // released in on_close / on_fail
  Room* room = nullptr;
  std::string room_name;
  bool member = false;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding, as URLSearchParams does in the Node peer.
std::string url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct Target {
  bool ok = false;
  std::string room;
  bool publisher = false;
};

// resource is "/ws?room=NAME[&role=pub]" (any parameter order; unknown parameters ignored).
Target parse_resource(std::string_view resource) {
  Target t;
  std::string_view path = resource;
  std::string_view query;
  if (auto q = resource.find('?'); q != std::string_view::npos) {
    path = resource.substr(0, q);
    query = resource.substr(q + 1);
  }
  if (path != "/ws")
    return t;
  bool have_room = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq));
    std::string value =
        eq == std::string_view::npos ? std::string{} : url_decode(pair.substr(eq + 1));
    if (key == "room" && !have_room) {
      t.room = std::move(value);
      have_room = true;
    } else if (key == "role") {
      t.publisher = value == "pub";
    }
  }
  t.ok = have_room;
  return t;
}

class BroadcastServer {
 public:
  explicit BroadcastServer(unsigned short port) : signals_(io_) {
    server_.clear_access_channels(websocketpp::log::alevel::all);
    server_.clear_error_channels(websocketpp::log::elevel::all);
    server_.init_asio(&io_);
    server_.set_reuse_addr(true);
    server_.set_listen_backlog(4096);

    server_.set_socket_init_handler([](connection_hdl, asio::ip::tcp::socket& s) {
      asio::error_code ec;
      s.set_option(asio::ip::tcp::no_delay(true), ec);
    });
    server_.set_validate_handler([this](connection_hdl h) { return on_validate(h); });
    server_.set_open_handler([this](connection_hdl h) { on_open(h); });
    server_.set_close_handler([this](connection_hdl h) { on_gone(h); });
    server_.set_fail_handler([this](connection_hdl h) { on_gone(h); });
    server_.set_message_handler(
        [this](connection_hdl h, message_ptr msg) { on_message(h, std::move(msg)); });

    server_.listen(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
    server_.start_accept();

    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](const asio::error_code& ec, int) {
      if (!ec)
        shutdown();
    });
    port_ = port;
  }

  void run() {
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(port_));
    std::fflush(stdout);
    server_.run();
  }

 private:
  bool on_validate(connection_hdl h) {
    connection_ptr con = server_.get_con_from_hdl(h);
    if (!parse_resource(con->get_resource()).ok) {
      con->set_status(websocketpp::http::status_code::not_found);
      return false;
    }
    // Accept any or no subprotocol: echo the first one offered, if any.
    const auto& protos = con->get_requested_subprotocols();
    if (!protos.empty())
      con->select_subprotocol(protos.front());
    return true;
  }

  void on_open(connection_hdl h) {
    connection_ptr con = server_.get_con_from_hdl(h);
    Target t = parse_resource(con->get_resource());
    auto [it, inserted] = rooms_.try_emplace(t.room);
    ConnInfo info;
    info.con = con;
    info.room = &it->second;  // unordered_map nodes are stable
    info.room_name = t.room;
    info.member = !t.publisher;
    if (info.member)
      it->second.members.push_back(con);
    conns_[con.get()] = std::move(info);
  }

  void on_gone(connection_hdl h) {
    connection_ptr con = server_.get_con_from_hdl(h);
    auto it = conns_.find(con.get());
    if (it == conns_.end())
      return;
    ConnInfo& info = it->second;
    if (info.member) {
      auto& m = info.room->members;
      auto pos = std::find(m.begin(), m.end(), con);
      if (pos != m.end()) {
        *pos = std::move(m.back());
        m.pop_back();
      }
    }
    if (info.room->members.empty())
      rooms_.erase(info.room_name);
    conns_.erase(it);
    if (stopping_ && conns_.empty() && stop_timer_)
      stop_timer_->cancel();  // all closed: stop now
  }

  void on_message(connection_hdl h, message_ptr msg) {
    // The handle refers to a live connection while its handlers run; look it up by address.
    auto sender = h.lock();
    auto it = conns_.find(sender.get());
    if (it == conns_.end())
      return;
    Room* room = it->second.room;
    if (room->members.empty())
      return;

    // Turn the received message into a prepared, unmasked server frame in place. This mirrors
    // processor::hybi13::prepare_data_frame for a server without compression: the payload is
    // kept as-is (already unmasked and, for text, UTF-8 validated on receipt).
    const std::string& payload = msg->get_payload();
    websocketpp::frame::basic_header bh(msg->get_opcode(), payload.size(), /*fin=*/true,
                                        /*mask=*/false, /*rsv1=*/false);
    websocketpp::frame::extended_header eh(payload.size());
    msg->set_header(websocketpp::frame::prepare_header(bh, eh));
    msg->set_compressed(false);
    msg->set_prepared(true);

    const void* self = sender.get();
    for (const connection_ptr& member : room->members) {
      if (member.get() == self)
        continue;
      member->send(msg);  // prepared: queued by reference, no copy
    }
  }

  void shutdown() {
    if (stopping_)
      return;
    stopping_ = true;
    websocketpp::lib::error_code ec;
    server_.stop_listening(ec);
    // Close every open connection; a slow or absent closing handshake is cut short below.
    std::vector<connection_ptr> open;
    open.reserve(conns_.size());
    for (auto& [ptr, info] : conns_)
      open.push_back(info.con);
    for (auto& con : open)
      con->close(websocketpp::close::status::going_away, "shutdown", ec);
    stop_timer_ = std::make_unique<asio::steady_timer>(io_, std::chrono::milliseconds(500));
    stop_timer_->async_wait([this](const asio::error_code&) { server_.stop(); });
    if (conns_.empty())
      stop_timer_->cancel();
  }

  asio::io_service io_;
  server_t server_;
  asio::signal_set signals_;
  std::unique_ptr<asio::steady_timer> stop_timer_;
  std::unordered_map<std::string, Room> rooms_;
  std::unordered_map<const void*, ConnInfo> conns_;
  unsigned short port_ = 0;
  bool stopping_ = false;
};

bool parse_port(const char* s, unsigned short& out) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s, s + std::strlen(s), v);
  if (ec != std::errc{} || *p != '\0' || v == 0 || v > 65535)
    return false;
  out = static_cast<unsigned short>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  bool ok = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--port" && i + 1 < argc) {
      ok = parse_port(argv[++i], port);
    } else if (a.rfind("--port=", 0) == 0) {
      ok = parse_port(argv[i] + 7, port);
    } else {
      ok = parse_port(argv[i], port);
    }
  }
  if (!ok) {
    std::fprintf(stderr, "usage: %s PORT | --port PORT\n",
                 argc > 0 ? argv[0] : "websocketpp-broadcast");
    return 2;
  }
  try {
    BroadcastServer srv(port);
    srv.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "websocketpp-broadcast: %s\n", e.what());
    return 1;
  }
  return 0;
}
