// Key codec of the store's per-room column families (events, dedup): room id bytes, one 0x00
// byte, then the seq as a big-endian uint64. Byte-wise key order is therefore (room, seq) order:
// a room's records sort by seq, and because room ids never contain 0x00 (ids.hpp), every key of
// room "ab" sorts before every key of room "abc" (0x00 < any id byte), so rooms never interleave.
// Pure code: no RocksDB, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/common/error.hpp"
#include "core/common/ids.hpp"

namespace huddle::store {

inline constexpr char kRoomKeySeparator = '\0';
inline constexpr std::size_t kSeqKeyBytes = 8;

// REQUIRES: `room` holds no 0x00 byte (is_valid_room_id() guarantees it).
[[nodiscard]] std::string encode_event_key(const RoomId& room, Seq seq);

// room + 0x00: every key of `room` starts with it, and no key of another room does.
[[nodiscard]] std::string room_key_prefix(const RoomId& room);

// room + 0x01: the smallest key greater than every key of `room`; an exclusive upper bound for
// iterators (0x01 sorts below every byte a room id may hold, so a longer room id is not skipped).
[[nodiscard]] std::string room_key_end(const RoomId& room);

struct DecodedKey {
  RoomId room;
  Seq seq;
};

// Splits a key made by encode_event_key(). Errc::kInternal if the bytes cannot be one (corrupt
// store): too short, empty room, or a 0x00 anywhere but just before the seq.
[[nodiscard]] Result<DecodedKey> decode_event_key(std::string_view key);

}  // namespace huddle::store
