#include "tests/support/test_client.hpp"

#include <stdexcept>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace huddle::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace v1 = huddle::v1;

struct TestClient::Impl {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buf;
  std::thread thread;
  codec::Encoding encoding = codec::Encoding::kProto;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<std::uint64_t, v1::Reply> replies;  // Guarded by mu.
  std::vector<v1::Event> events;               // Guarded by mu.
  std::vector<v1::ServerFrame> others;         // Guarded by mu.
  std::size_t anonymous_errors = 0;            // Guarded by mu.
  bool closed = false;                         // Guarded by mu.
  std::uint16_t close_code = 0;                // Guarded by mu.
  std::string protocol_error;                  // Guarded by mu.
  std::vector<std::string> raw;                // Guarded by mu. Only if record_raw.
  bool record_raw = false;                     // Set before the I/O thread starts.

  // I/O thread only.
  std::deque<std::pair<std::string, bool>> writes;
  bool writing = false;
  bool paused = false;
  bool reading = true;  // A read is outstanding.

  void do_read() {
    reading = true;
    ws.async_read(buf, [this](beast::error_code ec, std::size_t) { on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      std::lock_guard lock(mu);
      closed = true;
      close_code =
          ec == websocket::error::closed ? static_cast<std::uint16_t>(ws.reason().code) : 0;
      cv.notify_all();
      return;
    }
    const auto data = buf.cdata();
    auto message = codec::decode_server_message(
        std::string_view(static_cast<const char*>(data.data()), data.size()), encoding);
    const bool text = ws.got_text();
    std::string raw_message = record_raw
                                  ? std::string(static_cast<const char*>(data.data()), data.size())
                                  : std::string();
    buf.consume(buf.size());
    {
      std::lock_guard lock(mu);
      if (record_raw) {
        raw.push_back(std::move(raw_message));
      }
      if (text != (encoding == codec::Encoding::kJson)) {
        protocol_error = "server sent a message of the wrong type";
      }
      if (!message) {
        protocol_error = "server sent an undecodable message";
      } else {
        for (auto& frame : *message->mutable_frames()) {
          if (frame.has_reply()) {
            if (frame.reply().request_id() == 0) {
              ++anonymous_errors;
            } else {
              replies[frame.reply().request_id()] = frame.reply();
            }
          } else if (frame.has_event_batch()) {
            for (auto& e : *frame.mutable_event_batch()->mutable_events()) {
              events.push_back(std::move(e));
            }
          } else {
            others.push_back(std::move(frame));
          }
        }
      }
      cv.notify_all();
    }
    if (!paused) {
      do_read();
    } else {
      reading = false;
    }
  }

  void do_write() {
    if (writing || writes.empty()) {
      return;
    }
    writing = true;
    ws.text(writes.front().second);
    ws.async_write(asio::buffer(writes.front().first), [this](beast::error_code ec, std::size_t) {
      writing = false;
      writes.pop_front();
      if (!ec) {
        do_write();
      }
    });
  }

  template <class Pred>
  void wait(Pred pred, std::chrono::milliseconds timeout, const char* what) {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, timeout, pred)) {
      throw std::runtime_error(std::string("timed out waiting for ") + what);
    }
    if (!protocol_error.empty()) {
      throw std::runtime_error(protocol_error);
    }
  }
};

TestClient::TestClient(std::uint16_t port, codec::Encoding encoding)
    : TestClient(Options{.port = port, .encoding = encoding}) {}

TestClient::TestClient(Options options) : impl_(std::make_unique<Impl>()), options_(options) {
  impl_->encoding = options_.encoding;
  impl_->record_raw = options_.record_raw;
  asio::ip::tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(options_.host, std::to_string(options_.port));
  beast::get_lowest_layer(impl_->ws).connect(results);
  beast::get_lowest_layer(impl_->ws).expires_never();
  std::string sub = options_.subprotocol;
  if (sub.empty()) {
    sub = std::string(options_.encoding == codec::Encoding::kJson ? codec::kJsonSubprotocol
                                                                  : codec::kProtoSubprotocol);
  }
  impl_->ws.set_option(websocket::stream_base::decorator([sub](websocket::request_type& req) {
    req.set(beast::http::field::sec_websocket_protocol, sub);
  }));
  impl_->ws.read_message_max(64 * 1024 * 1024);
  impl_->ws.handshake(options_.host + ":" + std::to_string(options_.port), "/ws");
  impl_->do_read();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

TestClient::~TestClient() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ec;
    beast::get_lowest_layer(impl->ws).socket().close(ec);
  });
  impl_->guard.reset();
  // Let the read complete with an error; then the io_context runs out of work.
  impl_->thread.join();
}

std::uint64_t TestClient::send(v1::ClientFrame frame) {
  if (frame.request_id() == 0) {
    frame.set_request_id(next_request_id_++);
  }
  const auto id = frame.request_id();
  send_raw(codec::encode_client_frame(frame, options_.encoding),
           options_.encoding == codec::Encoding::kJson);
  return id;
}

void TestClient::send_raw(std::string bytes, bool text) {
  asio::post(impl_->ioc, [impl = impl_.get(), bytes = std::move(bytes), text]() mutable {
    impl->writes.emplace_back(std::move(bytes), text);
    impl->do_write();
  });
}

v1::Reply TestClient::wait_reply(std::uint64_t request_id) {
  impl_->wait([&] { return impl_->replies.contains(request_id) || impl_->closed; },
              options_.timeout, "a reply");
  std::lock_guard lock(impl_->mu);
  auto it = impl_->replies.find(request_id);
  if (it == impl_->replies.end()) {
    throw std::runtime_error("connection closed before the reply");
  }
  auto reply = std::move(it->second);
  impl_->replies.erase(it);
  return reply;
}

namespace {
void expect_ok(const v1::Reply& reply, const char* what) {
  if (reply.has_error()) {
    throw std::runtime_error(std::string(what) + " failed: " + reply.error().message());
  }
}
}  // namespace

v1::HelloResult TestClient::hello(const std::string& name, const std::string& member_id) {
  v1::ClientFrame f;
  f.mutable_hello()->set_display_name(name);
  f.mutable_hello()->set_member_id(member_id);
  auto reply = request(std::move(f));
  expect_ok(reply, "hello");
  return reply.hello();
}

v1::Reply TestClient::create_room(const std::string& room, const std::string& title) {
  v1::ClientFrame f;
  f.mutable_create_room()->set_room_id(room);
  f.mutable_create_room()->set_title(title);
  return request(std::move(f));
}

v1::JoinResult TestClient::join(const std::string& room, std::optional<v1::ResumePosition> resume) {
  v1::ClientFrame f;
  f.mutable_join()->set_room_id(room);
  if (resume) {
    *f.mutable_join()->mutable_resume() = *resume;
  }
  auto reply = request(std::move(f));
  expect_ok(reply, "join");
  return reply.join();
}

std::uint64_t TestClient::post_chat_async(const std::string& room, const std::string& text,
                                          const std::string& op_id) {
  v1::ClientFrame f;
  f.set_op_id(op_id);
  f.mutable_post_chat()->set_room_id(room);
  f.mutable_post_chat()->set_text(text);
  return send(std::move(f));
}

v1::Reply TestClient::post_chat(const std::string& room, const std::string& text,
                                const std::string& op_id) {
  return wait_reply(post_chat_async(room, text, op_id));
}

void TestClient::wait_events(std::size_t n, std::optional<std::chrono::milliseconds> timeout) {
  impl_->wait([&] { return impl_->events.size() >= n; }, timeout.value_or(options_.timeout),
              "events");
}

void TestClient::wait_seq(std::uint64_t seq, std::optional<std::chrono::milliseconds> timeout) {
  impl_->wait([&] { return !impl_->events.empty() && impl_->events.back().seq() >= seq; },
              timeout.value_or(options_.timeout), "an event");
}

std::vector<v1::Event> TestClient::events() const {
  std::lock_guard lock(impl_->mu);
  return impl_->events;
}

std::size_t TestClient::event_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->events.size();
}

std::vector<v1::ServerFrame> TestClient::others() const {
  std::lock_guard lock(impl_->mu);
  return impl_->others;
}

v1::ServerFrame TestClient::wait_other(const std::function<bool(const v1::ServerFrame&)>& pred) {
  v1::ServerFrame found;
  impl_->wait(
      [&] {
        for (const auto& f : impl_->others) {
          if (pred(f)) {
            found = f;
            return true;
          }
        }
        return false;
      },
      options_.timeout, "a frame");
  return found;
}

std::vector<std::string> TestClient::raw_messages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->raw;
}

std::size_t TestClient::anonymous_errors() const {
  std::lock_guard lock(impl_->mu);
  return impl_->anonymous_errors;
}

std::uint16_t TestClient::wait_closed(std::optional<std::chrono::milliseconds> timeout) {
  impl_->wait([&] { return impl_->closed; }, timeout.value_or(options_.timeout), "close");
  std::lock_guard lock(impl_->mu);
  return impl_->close_code;
}

bool TestClient::closed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->closed;
}

void TestClient::drop() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ec;
    beast::get_lowest_layer(impl->ws).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(impl->ws).socket().close(ec);
  });
  wait_closed();
}

void TestClient::close() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    impl->ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
  });
  wait_closed();
}

void TestClient::pause_reading() {
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->paused = true; });
}

}  // namespace huddle::testing

namespace huddle::testing {
void TestClient::resume_reading() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    impl->paused = false;
    if (!impl->reading) {
      impl->do_read();
    }
  });
}
}  // namespace huddle::testing
