// Integration: docs/PROTOCOL.md's "A complete session (JSON)" transcript is replayed against the
// real Server, so the documented wire format cannot drift from the code. Every `>` line is sent
// verbatim (after placeholder substitution) as a text message; every `<` line must equal, as a
// huddle.v1.ServerFrame, the next frame that client receives (messages are ServerMessages whose
// frames are flattened in order; their packing depends on timing): same kind, same fields, same
// order. Placeholders: "<epoch>" is the server's store epoch; "<time>" stands for any
// ...UnixMs value (fields named *_unix_ms), compared after clearing them on both sides.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "tests/support/test_client.hpp"
#include "tests/support/test_server.hpp"

#ifndef HUDDLE_SOURCE_DIR
#error "HUDDLE_SOURCE_DIR must be defined by the build"
#endif

namespace huddle::testing {
namespace {

namespace v1 = huddle::v1;
namespace pb = google::protobuf;

struct Line {
  int number = 0;     // 1-based, in PROTOCOL.md.
  char client = 'A';  // `>` / `<` without a letter belong to client A.
  bool sends = false;
  std::string json;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The lines of the one ```transcript block.
std::vector<Line> extract_transcript(const std::string& markdown) {
  std::vector<Line> lines;
  std::istringstream in(markdown);
  std::string text;
  int number = 0;
  bool inside = false;
  int blocks = 0;
  while (std::getline(in, text)) {
    ++number;
    if (!inside) {
      if (text == "```transcript") {
        inside = true;
        ++blocks;
      }
      continue;
    }
    if (text.starts_with("```")) {
      inside = false;
      continue;
    }
    if (text.empty()) {
      continue;
    }
    Line line;
    line.number = number;
    std::size_t pos = 0;
    if (text[0] >= 'A' && text[0] <= 'Z') {
      line.client = text[0];
      pos = 1;
    }
    if (text.size() < pos + 2 || (text[pos] != '>' && text[pos] != '<') || text[pos + 1] != ' ') {
      throw std::runtime_error("transcript line " + std::to_string(number) +
                               " is neither `> {json}` nor `< {json}`: " + text);
    }
    line.sends = text[pos] == '>';
    line.json = text.substr(pos + 2);
    lines.push_back(std::move(line));
  }
  if (blocks != 1) {
    throw std::runtime_error("PROTOCOL.md must hold exactly one ```transcript block, found " +
                             std::to_string(blocks));
  }
  return lines;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos)) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// Volatile fields: server clock readings.
void clear_times(pb::Message& msg) {
  const pb::Reflection* refl = msg.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  refl->ListFields(msg, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->name().ends_with("_unix_ms")) {
      refl->ClearField(&msg, f);
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < refl->FieldSize(msg, f); ++i) {
          clear_times(*refl->MutableRepeatedMessage(&msg, f, i));
        }
      } else {
        clear_times(*refl->MutableMessage(&msg, f));
      }
    }
  }
}

v1::ServerFrame parse_frame(const std::string& json, const std::string& what) {
  v1::ServerFrame frame;
  pb::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto status = pb::util::JsonStringToMessage(json, &frame, opts);
  if (!status.ok()) {
    throw std::runtime_error(what + " is not a huddle.v1.ServerFrame: " + status.ToString() +
                             "\n  " + json);
  }
  clear_times(frame);
  return frame;
}

// The frames the client received so far, in order: every server message is a ServerMessage
// whose frames are handled in order; how frames are packed into messages depends on timing, so
// the transcript documents frames, one per line.
std::vector<std::string> received_frames(const TestClient& client) {
  std::vector<std::string> out;
  for (const auto& raw : client.raw_messages()) {
    v1::ServerMessage message;
    pb::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = false;
    if (!pb::util::JsonStringToMessage(raw, &message, opts).ok()) {
      throw std::runtime_error("the server sent a message that is not a ServerMessage: " + raw);
    }
    for (const auto& frame : message.frames()) {
      std::string json;
      if (!pb::util::MessageToJsonString(frame, &json).ok()) {
        throw std::runtime_error("cannot print a frame");
      }
      out.push_back(std::move(json));
    }
  }
  return out;
}

// Waits (with the client's deadline) until `client` has received more than `index` frames.
// The typed waits block on the client's condition variable; the bounded poll only covers frames
// whose kind cannot be counted that way (a repeated presence notice, an anonymous error).
std::string next_message(TestClient& client, std::size_t index, const v1::ServerFrame& expected,
                         std::size_t events_so_far) {
  try {
    if (expected.has_reply() && expected.reply().request_id() != 0) {
      client.wait_reply(expected.reply().request_id());
    } else if (expected.has_event_batch()) {
      client.wait_events(events_so_far);
    } else if (!expected.has_reply()) {
      client.wait_other([&](const v1::ServerFrame& f) {
        auto got = f;
        clear_times(got);
        return pb::util::MessageDifferencer::Equals(got, expected);
      });
    }
  } catch (const std::runtime_error&) {
    // Timed out or closed: the comparison below reports what came instead, if anything did.
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto raw = received_frames(client);
  while (raw.size() <= index && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Bounded poll, see above.
    raw = received_frames(client);
  }
  if (raw.size() <= index) {
    throw std::runtime_error("timed out waiting for server frame #" + std::to_string(index + 1));
  }
  return raw[index];
}

TEST(ProtocolTranscript, TheDocumentedJsonSessionIsWhatTheServerSays) {
  const std::string doc = std::string(HUDDLE_SOURCE_DIR) + "/docs/PROTOCOL.md";
  const auto lines = extract_transcript(read_file(doc));
  ASSERT_FALSE(lines.empty()) << "the transcript in " << doc << " is empty";

  TestServer server;
  const std::string epoch = std::to_string(server.epoch());
  std::map<char, std::unique_ptr<TestClient>> clients;
  std::map<char, std::size_t> received;  // Messages compared so far, per client.
  std::map<char, std::size_t> events;    // Events expected so far, per client.
  for (const auto& line : lines) {
    if (!clients.contains(line.client)) {
      clients[line.client] = std::make_unique<TestClient>(TestClient::Options{
          .port = server.port(), .encoding = codec::Encoding::kJson, .record_raw = true});
    }
  }

  for (const auto& line : lines) {
    SCOPED_TRACE("PROTOCOL.md line " + std::to_string(line.number) + ": " + line.json);
    auto& client = *clients.at(line.client);
    std::string json = line.json;
    replace_all(json, "<epoch>", epoch);
    if (line.sends) {
      client.send_raw(json, /*text=*/true);
      continue;
    }
    replace_all(json, "\"<time>\"", "\"0\"");
    const auto expected = parse_frame(json, "the documented line");
    if (expected.has_event_batch()) {
      events[line.client] += static_cast<std::size_t>(expected.event_batch().events_size());
    }
    const std::size_t index = received[line.client]++;
    const std::string raw = next_message(client, index, expected, events[line.client]);
    const auto actual = parse_frame(raw, "the server's message");

    pb::util::MessageDifferencer differ;
    std::string diff;
    differ.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differ.Compare(expected, actual))
        << "client " << line.client << " frame #" << index + 1 << " differs from the doc\n"
        << "  documented: " << line.json << "\n  server:     " << raw << "\n"
        << diff;
    if (::testing::Test::HasFailure()) {
      return;  // Later lines would only cascade.
    }
  }
  // Nothing undocumented arrived. Proving an absence needs a quiet period: a message the server
  // sends after the last documented one arrives within milliseconds on loopback.
  const auto quiet_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < quiet_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (const auto& [name, client] : clients) {
    const auto raw = received_frames(*client);
    EXPECT_EQ(raw.size(), received[name])
        << "client " << name << " received a frame the transcript does not show: "
        << (raw.size() > received[name] ? raw[received[name]] : std::string());
  }
}

}  // namespace
}  // namespace huddle::testing
