#include "server_message.hpp"

#include <climits>

namespace huddle::sdk {

Result<huddle::v1::ServerMessage> decode_server_message(std::string_view bytes, bool text) {
  huddle::v1::ServerMessage message;
  if (text || bytes.size() > static_cast<std::size_t>(INT_MAX) ||
      !message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Errc::kMalformedFrame;
  }
  return message;
}

}  // namespace huddle::sdk
