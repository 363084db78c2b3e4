#include "server/store/key_codec.hpp"

#include <cstdint>

#include "core/common/assert.hpp"

namespace huddle::store {

std::string encode_event_key(const RoomId& room, Seq seq) {
  HUDDLE_DCHECK(room.value().find(kRoomKeySeparator) == std::string::npos);
  std::string key;
  key.reserve(room.value().size() + 1 + kSeqKeyBytes);
  key.append(room.value());
  key.push_back(kRoomKeySeparator);
  const std::uint64_t v = seq.value();
  for (std::size_t i = 0; i < kSeqKeyBytes; ++i) {
    // Big-endian: the most significant byte first, so memcmp order is numeric order.
    key.push_back(static_cast<char>(static_cast<std::uint8_t>(v >> (8 * (kSeqKeyBytes - 1 - i)))));
  }
  return key;
}

std::string room_key_prefix(const RoomId& room) {
  std::string prefix = room.value();
  prefix.push_back(kRoomKeySeparator);
  return prefix;
}

std::string room_key_end(const RoomId& room) {
  std::string end = room.value();
  end.push_back('\x01');
  return end;
}

Result<DecodedKey> decode_event_key(std::string_view key) {
  if (key.size() < 2 + kSeqKeyBytes) {
    return make_error_code(Errc::kInternal);
  }
  const std::size_t room_bytes = key.size() - kSeqKeyBytes - 1;
  const std::string_view room = key.substr(0, room_bytes);
  if (key[room_bytes] != kRoomKeySeparator ||
      room.find(kRoomKeySeparator) != std::string_view::npos) {
    return make_error_code(Errc::kInternal);
  }
  std::uint64_t v = 0;
  for (std::size_t i = room_bytes + 1; i < key.size(); ++i) {
    v = (v << 8) | static_cast<std::uint8_t>(key[i]);
  }
  return DecodedKey{RoomId(std::string(room)), Seq(v)};
}

}  // namespace huddle::store
