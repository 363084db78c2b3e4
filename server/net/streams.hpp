// The two transports a connection can run on: plain TCP, or TLS over TCP (--tls-cert). A
// connection's stream is chosen at accept and kept through the upgrade to WebSocket.
#pragma once

#include <variant>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace huddle::net {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
using AnyStream = std::variant<PlainStream, TlsStream>;

}  // namespace huddle::net
