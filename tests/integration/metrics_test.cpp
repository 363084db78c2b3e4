// GET /metrics: a scripted session moves every counter it touches by the expected amount, and
// the output parses as the Prometheus text format (issue #8).
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/http_get.hpp"
#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

using Samples = std::map<std::string, double>;  // "name{labels}" -> value

// Parses the text format strictly: every line is a # HELP, a # TYPE, or `name{labels} value`;
// every sample's family was declared by a # TYPE line first.
Samples scrape(std::uint16_t port) {
  const auto res = http_get(port, "/metrics");
  EXPECT_EQ(res.status, 200U);
  EXPECT_EQ(res.content_type, "text/plain; version=0.0.4; charset=utf-8");
  static const std::regex kHelp(R"(# HELP [a-z_]+ .+)");
  static const std::regex kType(R"(# TYPE ([a-z_]+) (counter|gauge|histogram))");
  // Values as Prometheus writes them: a sum under 1e-4 s prints as 9.1e-05 (a test that once
  // failed when a fan-out was that fast).
  static const std::regex kSample(
      R"(([a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?))");
  Samples out;
  std::map<std::string, std::string> types;
  std::istringstream in(res.body);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kType)) {
      types[m[1]] = m[2];
    } else if (std::regex_match(line, m, kSample)) {
      std::string family = m[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string sfx = suffix;
        if (family.size() > sfx.size() && family.ends_with(sfx) &&
            types.contains(family.substr(0, family.size() - sfx.size()))) {
          family = family.substr(0, family.size() - sfx.size());
        }
      }
      EXPECT_TRUE(types.contains(family)) << "no # TYPE before: " << line;
      out[std::string(m[1]) + std::string(m[2])] = std::stod(m[4]);
    } else {
      EXPECT_TRUE(std::regex_match(line, kHelp)) << "not Prometheus text: " << line;
    }
  }
  return out;
}

double delta(const Samples& before, const Samples& after, const std::string& key) {
  const auto b = before.contains(key) ? before.at(key) : 0.0;
  EXPECT_TRUE(after.contains(key)) << key;
  return after.contains(key) ? after.at(key) - b : -1;
}

TEST(Metrics, AScriptedSessionMovesTheCountersByTheExpectedAmounts) {
  TestServer server;
  const auto before = scrape(server.port());

  TestClient ann(server.port());
  TestClient bob(server.port(), codec::Encoding::kJson);
  ann.hello("Ann", "ann");
  bob.hello("Bob", "bob");
  ASSERT_FALSE(ann.create_room("m").has_error());
  ann.join("m");
  bob.join("m");
  std::uint64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    last = ann.post_chat("m", "hello " + std::to_string(i)).seq();
  }
  EXPECT_TRUE(ann.post_chat("m", "").has_error());  // INVALID_ARGUMENT
  ann.send_raw("\xff\xff", false);                  // Undecodable.
  v1::ClientFrame list;  // Answered after the undecodable one: the connection is in order.
  list.mutable_list_rooms();
  EXPECT_FALSE(ann.request(list).has_error());
  bob.wait_seq(last);

  const auto after = scrape(server.port());
  // RoomCreated, bob's MemberJoined, three chats.
  EXPECT_EQ(delta(before, after, "huddle_events_appended_total"), 5);
  EXPECT_EQ(delta(before, after, "huddle_append_latency_seconds_count"), 5);
  EXPECT_EQ(delta(before, after, R"(huddle_commands_total{command="post_chat",result="ok"})"), 3);
  EXPECT_EQ(
      delta(before, after,
            R"(huddle_commands_total{command="post_chat",result="ERROR_CODE_INVALID_ARGUMENT"})"),
      1);
  EXPECT_EQ(delta(before, after, R"(huddle_commands_total{command="create_room",result="ok"})"), 1);
  EXPECT_EQ(delta(before, after, R"(huddle_commands_total{command="join",result="ok"})"), 2);
  EXPECT_EQ(delta(before, after, R"(huddle_commands_total{command="hello",result="ok"})"), 2);
  EXPECT_EQ(delta(before, after, R"(huddle_commands_total{command="list_rooms",result="ok"})"), 1);
  EXPECT_EQ(delta(before, after, R"(huddle_rejected_frames_total{reason="malformed"})"), 1);
  EXPECT_EQ(delta(before, after, R"(huddle_resumes_total{mode="RESUME_MODE_SNAPSHOT"})"), 2);
  EXPECT_EQ(after.at(R"(huddle_connections{subprotocol="huddle.v1+proto"})"), 1);
  EXPECT_EQ(after.at(R"(huddle_connections{subprotocol="huddle.v1+json"})"), 1);
  EXPECT_EQ(after.at("huddle_room_members"), 2);
  EXPECT_EQ(after.at("huddle_rooms_loaded"), 1);
  // Each chat to both members, plus replies, snapshots and presence.
  EXPECT_GE(delta(before, after, "huddle_deliveries_total"), 3 * 2 + 5);
  EXPECT_GE(after.at(R"(huddle_append_latency_seconds_bucket{le="+Inf"})"),
            after.at(R"(huddle_append_latency_seconds_bucket{le="0.001"})"));
  // Fan-out: one sample per event and shard with members (ann and bob may share a shard).
  const auto fanouts = delta(before, after, "huddle_fanout_latency_seconds_count");
  EXPECT_GE(fanouts, 3);
  EXPECT_LE(fanouts, 2 * 4);
  // The store: at least one commit group written (5 events, group-committed), and its gauges.
  EXPECT_GE(delta(before, after, "huddle_store_write_seconds_count"), 1);
  EXPECT_LE(delta(before, after, "huddle_store_write_seconds_count"), 5);
  EXPECT_TRUE(after.contains("huddle_store_sst_bytes"));
  EXPECT_TRUE(after.contains("huddle_store_pending_compaction_bytes"));
  EXPECT_GT(after.at("huddle_store_memtable_bytes"), 0);

  bob.close();
  ann.close();
}

}  // namespace
}  // namespace huddle::testing
