#include "server/store/key_codec.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace huddle::store {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::vector<std::uint64_t> interesting_seqs() {
  std::vector<std::uint64_t> seqs = {0, 1, 2, 127, 128, 255, 256, 257, 65535, 65536};
  // 2^31 - 1, 2^32 - 1, 2^32, 2^32 + 1, 2^64 - 2, 2^64 - 1.
  for (std::uint64_t big :
       {kMax >> 33, kMax >> 32, (kMax >> 32) + 1, (kMax >> 32) + 2, kMax - 1, kMax}) {
    seqs.push_back(big);
  }
  std::mt19937_64 rng(20240531);  // Seeded: the test is deterministic.
  for (int i = 0; i < 2000; ++i) {
    // Mix magnitudes so every byte position of the encoding gets exercised.
    seqs.push_back(rng() >> (rng() % 64));
  }
  return seqs;
}

TEST(KeyCodec, EncodesRoomSeparatorAndBigEndianSeq) {
  const std::string key = encode_event_key(RoomId("ab"), Seq(0x0102030405060708ULL));
  EXPECT_EQ(key, std::string("ab\0\x01\x02\x03\x04\x05\x06\x07\x08", 11));
}

TEST(KeyCodec, KeyOrderEqualsSeqOrderWithinARoom) {
  const RoomId room("room-1");
  auto seqs = interesting_seqs();
  std::vector<std::string> keys;
  for (std::uint64_t s : seqs) {
    keys.push_back(encode_event_key(room, Seq(s)));
  }
  for (std::size_t i = 0; i + 1 < seqs.size(); ++i) {
    for (std::size_t j : {i + 1, seqs.size() - 1 - i}) {
      EXPECT_EQ(seqs[i] < seqs[j], keys[i] < keys[j]) << seqs[i] << " vs " << seqs[j];
      EXPECT_EQ(seqs[i] == seqs[j], keys[i] == keys[j]) << seqs[i] << " vs " << seqs[j];
    }
  }
  // Sorting the keys bytewise sorts the seqs numerically.
  std::vector<std::size_t> order(seqs.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    EXPECT_LE(seqs[order[i]], seqs[order[i + 1]]);
  }
}

TEST(KeyCodec, DecodeInvertsEncodeForEverySeq) {
  for (std::uint64_t s : interesting_seqs()) {
    auto decoded = decode_event_key(encode_event_key(RoomId("abc"), Seq(s)));
    ASSERT_TRUE(decoded.has_value()) << s;
    EXPECT_EQ(decoded->room, RoomId("abc"));
    EXPECT_EQ(decoded->seq, Seq(s));
  }
}

TEST(KeyCodec, RoomsThatArePrefixesOfEachOtherNeverInterleave) {
  const std::vector<RoomId> rooms = {RoomId("a"),   RoomId("ab"),  RoomId("abc"),
                                     RoomId("ab-"), RoomId("ab0"), RoomId("b")};
  const std::vector<std::uint64_t> seqs = {0, 1, 255, 256, 1ULL << 32, kMax};
  for (const RoomId& x : rooms) {
    for (const RoomId& y : rooms) {
      if (x == y) {
        continue;
      }
      // Every key of x sits on the same side of every key of y, the side of x's id vs y's id.
      for (std::uint64_t sx : seqs) {
        for (std::uint64_t sy : seqs) {
          EXPECT_EQ(encode_event_key(x, Seq(sx)) < encode_event_key(y, Seq(sy)), x < y)
              << x.value() << "/" << sx << " vs " << y.value() << "/" << sy;
        }
      }
    }
  }
}

TEST(KeyCodec, PrefixAndEndBoundExactlyTheRoomsKeys) {
  const RoomId ab("ab");
  const std::string prefix = room_key_prefix(ab);
  const std::string end = room_key_end(ab);
  for (std::uint64_t s : std::vector<std::uint64_t>{0, 256, kMax}) {
    const std::string own = encode_event_key(ab, Seq(s));
    EXPECT_TRUE(own.starts_with(prefix));
    EXPECT_GE(own, prefix);
    EXPECT_LT(own, end);
    for (const char* other : {"a", "abc", "ab-", "b", "aa"}) {
      const std::string key = encode_event_key(RoomId(other), Seq(s));
      EXPECT_FALSE(key.starts_with(prefix)) << other;
      EXPECT_FALSE(key >= prefix && key < end) << other;
    }
  }
}

TEST(KeyCodec, MalformedKeysDecodeAsInternalError) {
  const std::string good = encode_event_key(RoomId("ab"), Seq(7));
  const std::vector<std::string> bad = {
      "",
      "ab",
      good.substr(0, good.size() - 1),                 // Truncated seq.
      good.substr(2),                                  // No room.
      "ab" + std::string(1, '\x01') + good.substr(3),  // Separator is not 0x00.
      std::string("a\0b\0", 4) + good.substr(3),       // 0x00 inside the room id.
  };
  for (const std::string& key : bad) {
    auto decoded = decode_event_key(key);
    ASSERT_FALSE(decoded.has_value()) << testing::PrintToString(key);
    EXPECT_EQ(decoded.error(), Errc::kInternal);
  }
}

}  // namespace
}  // namespace huddle::store
