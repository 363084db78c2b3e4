// Structured logs (server/util/log.hpp): the text and JSON line formats, escaping, per-module
// levels, and that bad settings change nothing.
#include "server/util/log.hpp"

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

namespace {

int g_formatted = 0;  // How many times a Counted argument was formatted.
struct Counted {};

}  // namespace

template <>
struct fmt::formatter<Counted> : fmt::formatter<std::string_view> {
  auto format(Counted, fmt::format_context& ctx) const {
    ++g_formatted;
    return fmt::formatter<std::string_view>::format("counted", ctx);
  }
};

namespace huddle::log {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// 2026-11-28T15:00:00.123Z
spdlog::log_clock::time_point example_time() {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 28} + hours{15} + milliseconds{123};
}

std::string format_one(Format format, std::string_view payload,
                       spdlog::level::level_enum lvl = spdlog::level::info,
                       std::string_view module = "app") {
  const spdlog::details::log_msg msg(example_time(), spdlog::source_loc{}, module, lvl, payload);
  spdlog::memory_buf_t buf;
  make_formatter(format)->format(msg, buf);
  return fmt::to_string(buf);
}

// What protobuf's JSON parser lets through: raw control characters and unknown escapes.
void expect_strict_json_string_bytes(const std::string& object) {
  for (std::size_t i = 0; i < object.size(); ++i) {
    ASSERT_GE(static_cast<unsigned char>(object[i]), 0x20) << "raw control character: " << object;
    if (object[i] != '\\') {
      continue;
    }
    ++i;  // Backslashes occur only in strings here: each starts an escape.
    ASSERT_LT(i, object.size()) << object;
    ASSERT_NE(std::string_view(R"("\/bfnrtu)").find(object[i]), std::string_view::npos)
        << "bad escape at " << i << ": " << object;
    if (object[i] == 'u') {
      ASSERT_LT(i + 4, object.size()) << object;
      for (std::size_t h = i + 1; h <= i + 4; ++h) {
        ASSERT_NE(std::string_view("0123456789abcdefABCDEF").find(object[h]),
                  std::string_view::npos)
            << "bad \\u escape at " << i << ": " << object;
      }
    }
  }
}

// Parses one JSON line strictly into a Struct. protobuf's JSON parser rejects bad syntax, invalid
// UTF-8, lone surrogates and repeated keys; expect_strict_json_string_bytes covers the rest.
Struct parse_json(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n') << line;
  const std::string object = line.substr(0, line.size() - 1);
  EXPECT_EQ(object.find('\n'), std::string::npos) << "one record, one line: " << line;
  expect_strict_json_string_bytes(object);
  Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(object, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << line;
  return parsed;
}

// The string field `key` of `s` ("<missing>" or "<not a string>" otherwise).
std::string field(const Struct& s, const std::string& key) {
  const auto it = s.fields().find(key);
  if (it == s.fields().end()) {
    return "<missing>";
  }
  if (it->second.kind_case() != Value::kStringValue) {
    return "<not a string>";
  }
  return it->second.string_value();
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_sink_for_testing(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
    ASSERT_TRUE(set_levels("trace"));
  }
  void TearDown() override {
    EXPECT_TRUE(set_format("text"));
    EXPECT_TRUE(set_levels("info"));
    set_sink_for_testing(nullptr);
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) {
      result.push_back(line + "\n");
    }
    return result;
  }

  std::ostringstream out_;
};

TEST(LogJsonCheck, RejectsWhatIsNotStrictJson) {
  EXPECT_FATAL_FAILURE(expect_strict_json_string_bytes("{\"a\":\"\\q\"}"), "bad escape");
  EXPECT_FATAL_FAILURE(expect_strict_json_string_bytes("{\"a\":\"\\u12\"}"), "bad \\u escape");
  EXPECT_FATAL_FAILURE(expect_strict_json_string_bytes("{\"a\":\"\x01\"}"), "raw control");
  EXPECT_NONFATAL_FAILURE(parse_json("{\"a\":\"x\",\"a\":\"y\"}\n"), "Repeated map key");
  EXPECT_NONFATAL_FAILURE(parse_json("{\"a\":\"\xff\"}\n"), "non UTF-8");
  EXPECT_NONFATAL_FAILURE(parse_json("{\"a\":\"x\"\n"), "INVALID_ARGUMENT");
}

// ---- formats ------------------------------------------------------------------------------------

TEST(LogFormat, TextLineIsTimestampLevelModuleThenMessage) {
  EXPECT_EQ(
      format_one(Format::kText, "room load failed room=q3 err=IO error: disk full",
                 spdlog::level::warn, "room"),
      "2026-11-28T15:00:00.123Z warn [room] room load failed room=q3 err=IO error: disk full\n");
}

TEST(LogFormat, JsonLineHasFixedFieldsThenMessageFieldsInOrder) {
  EXPECT_EQ(format_one(Format::kJson, "room load failed room=q3 err=IO error: disk full",
                       spdlog::level::warn, "room"),
            R"({"ts":"2026-11-28T15:00:00.123Z","level":"warn","module":"room",)"
            R"("msg":"room load failed","room":"q3","err":"IO error: disk full"})"
            "\n");
}

TEST(LogFormat, LevelNamesAreShort) {
  EXPECT_NE(format_one(Format::kText, "x", spdlog::level::trace).find(" trace [app] "),
            std::string::npos);
  EXPECT_NE(format_one(Format::kText, "x", spdlog::level::debug).find(" debug [app] "),
            std::string::npos);
  EXPECT_NE(format_one(Format::kText, "x", spdlog::level::err).find(" error [app] "),
            std::string::npos);
  EXPECT_NE(format_one(Format::kText, "x", spdlog::level::critical).find(" critical [app] "),
            std::string::npos);
}

TEST(LogFormat, TimestampFollowsEveryRecordAcrossSeconds) {
  auto formatter = make_formatter(Format::kText);
  const auto t0 = example_time();
  const std::vector<std::pair<spdlog::log_clock::time_point, std::string>> cases = {
      {t0, "2026-11-28T15:00:00.123Z"},
      {t0 + std::chrono::milliseconds{5}, "2026-11-28T15:00:00.128Z"},
      {t0 + std::chrono::milliseconds{877}, "2026-11-28T15:00:01.000Z"},
      {t0 + std::chrono::hours{9}, "2026-11-29T00:00:00.123Z"},
      {t0 - std::chrono::seconds{1}, "2026-11-28T14:59:59.123Z"},
  };
  for (const auto& [time, expected] : cases) {
    const spdlog::details::log_msg msg(time, spdlog::source_loc{}, "app", spdlog::level::info, "x");
    spdlog::memory_buf_t buf;
    formatter->format(msg, buf);
    EXPECT_EQ(fmt::to_string(buf), expected + " info [app] x\n");
  }
}

TEST(LogFormat, JsonValuesRunToTheNextKey) {
  const Struct s = parse_json(format_one(
      Format::kJson, "read failed conn=7 err=Connection reset by peer  shard=1 note=a=b x =y"));
  EXPECT_EQ(field(s, "msg"), "read failed");
  EXPECT_EQ(field(s, "conn"), "7");
  EXPECT_EQ(field(s, "err"), "Connection reset by peer");
  EXPECT_EQ(field(s, "shard"), "1");
  EXPECT_EQ(field(s, "note"), "a=b x =y");  // "x =y" is no key: a key is followed by '='.
  EXPECT_EQ(s.fields_size(), 8);
}

TEST(LogFormat, JsonMessageWithoutFieldsOrWithoutText) {
  Struct s = parse_json(format_one(Format::kJson, "stopped"));
  EXPECT_EQ(field(s, "msg"), "stopped");
  EXPECT_EQ(s.fields_size(), 4);
  s = parse_json(format_one(Format::kJson, "a=1 b= c=3"));
  EXPECT_EQ(field(s, "msg"), "");
  EXPECT_EQ(field(s, "a"), "1");
  EXPECT_EQ(field(s, "b"), "");
  EXPECT_EQ(field(s, "c"), "3");
  s = parse_json(format_one(Format::kJson, ""));
  EXPECT_EQ(field(s, "msg"), "");
}

TEST(LogFormat, JsonKeepsValuesAsStrings) {
  const Struct s = parse_json(format_one(Format::kJson, "listening port=8080 ok=true none=null"));
  EXPECT_EQ(field(s, "port"), "8080");
  EXPECT_EQ(field(s, "ok"), "true");
  EXPECT_EQ(field(s, "none"), "null");
}

TEST(LogFormat, JsonRenamesReservedAndRepeatedKeys) {
  const std::string line =
      format_one(Format::kJson, "x msg=m level=l ts=t module=o a=1 a=2 _a=3 __a=4 a=5");
  EXPECT_NE(line.find(R"("msg":"x","_msg":"m","_level":"l","_ts":"t","_module":"o")"),
            std::string::npos)
      << line;
  const Struct s = parse_json(line);
  EXPECT_EQ(field(s, "a"), "1");
  EXPECT_EQ(field(s, "_a"), "2");
  EXPECT_EQ(field(s, "__a"), "3");   // "_a" was taken.
  EXPECT_EQ(field(s, "___a"), "4");  // "__a" was taken.
  EXPECT_EQ(field(s, "____a"), "5");
  EXPECT_EQ(s.fields_size(), 4 + 4 + 5);
}

// ---- escaping -----------------------------------------------------------------------------------

TEST(LogEscaping, JsonEscapesQuotesAndBackslashes) {
  const std::string line = format_one(Format::kJson, R"(say "hi" err=C:\tmp "x" \u0041)");
  EXPECT_NE(line.find(R"("msg":"say \"hi\"")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("err":"C:\\tmp \"x\" \\u0041")"), std::string::npos) << line;
  const Struct s = parse_json(line);
  EXPECT_EQ(field(s, "msg"), R"(say "hi")");
  EXPECT_EQ(field(s, "err"), R"(C:\tmp "x" \u0041)");
}

TEST(LogEscaping, JsonEscapesEveryControlCharacter) {
  std::string payload = "ctl v=";
  for (int c = 0; c < 0x20; ++c) {
    payload.push_back(static_cast<char>(c));
  }
  payload.push_back('\x7f');
  const std::string line = format_one(Format::kJson, payload);
  EXPECT_NE(line.find(R"("v":"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r)"
                      R"(\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019)"
                      R"(\u001a\u001b\u001c\u001d\u001e\u001f\u007f"})"),
            std::string::npos)
      << line;
  const Struct s = parse_json(line);
  EXPECT_EQ(field(s, "v"), payload.substr(6));
}

TEST(LogEscaping, NewlinesCannotForgeARecord) {
  const std::string forged = "x\n{\"ts\":\"1970\",\"level\":\"info\"}\r\n";
  const std::string json = format_one(Format::kJson, "bad frame err=" + forged);
  EXPECT_EQ(field(parse_json(json), "err"), forged);
  const std::string text = format_one(Format::kText, "bad frame err=" + forged);
  EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
  EXPECT_NE(text.find(R"(err=x\n{"ts":"1970","level":"info"}\r\n)"), std::string::npos) << text;
}

TEST(LogEscaping, ValidUtf8IsKept) {
  // é, €, U+1F600, and the last code points of each length.
  const std::string text =
      "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xDF\xBF \xEF\xBF\xBF \xF4\x8F\xBF\xBF";
  const std::string line = format_one(Format::kJson, "v=" + text);
  EXPECT_NE(line.find(text), std::string::npos) << line;
  EXPECT_EQ(field(parse_json(line), "v"), text);
  EXPECT_NE(format_one(Format::kText, "v=" + text).find(text), std::string::npos);
}

TEST(LogEscaping, InvalidUtf8BecomesReplacementCharacters) {
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"\xFF", r},                          // never a lead byte
      {"\x80", r},                          // stray continuation
      {"\xC3\x28", r + "("},                // truncated 2-byte sequence
      {"\xC0\xAF", r + r},                  // overlong '/'
      {"\xE0\x80\xAF", r + r + r},          // overlong 3-byte
      {"\xED\xA0\x80", r + r + r},          // surrogate U+D800
      {"\xF4\x90\x80\x80", r + r + r + r},  // above U+10FFFF
      {"\xE2\x82", r},                      // truncated at the end
      {"\xF0\x9F\x98", r},                  // truncated at the end
      {"a\xE2\x82"
       "b",
       "a" + r + "b"},  // maximal subpart, then the next character
      {"\xF5\xC3\xA9", r + "\xC3\xA9"},
  };
  for (const Case& c : cases) {
    const std::string json = format_one(Format::kJson, "v=" + c.in);
    EXPECT_NE(json.find("\"v\":\"" + c.out + "\""), std::string::npos) << json;
    EXPECT_EQ(field(parse_json(json), "v"), c.out);
    EXPECT_EQ(format_one(Format::kText, "v=" + c.in),
              "2026-11-28T15:00:00.123Z info [app] v=" + c.out + "\n");
  }
}

TEST(LogEscaping, JsonEscapesLineAndParagraphSeparators) {
  const std::string line = format_one(Format::kJson,
                                      "v=a\xE2\x80\xA8"
                                      "b\xE2\x80\xA9");
  EXPECT_NE(line.find(R"("v":"a\u2028b\u2029")"), std::string::npos) << line;
  EXPECT_EQ(field(parse_json(line), "v"),
            "a\xE2\x80\xA8"
            "b\xE2\x80\xA9");
}

// ---- the module loggers -------------------------------------------------------------------------

TEST_F(LogTest, JsonFormatReachesTheLoggers) {
  ASSERT_TRUE(set_format("json"));
  app()->info("listening addr={}:{} threads={}", "127.0.0.1", 8080, 2);
  const auto got = lines();
  ASSERT_EQ(got.size(), 1u) << out_.str();
  const Struct s = parse_json(got[0]);
  const std::string ts = field(s, "ts");
  ASSERT_EQ(ts.size(), 24u) << ts;
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts[23], 'Z');
  EXPECT_EQ(field(s, "level"), "info");
  EXPECT_EQ(field(s, "module"), "app");
  EXPECT_EQ(field(s, "msg"), "listening");
  EXPECT_EQ(field(s, "addr"), "127.0.0.1:8080");
  EXPECT_EQ(field(s, "threads"), "2");
  EXPECT_EQ(got[0].rfind(R"({"ts":")", 0), 0u);
}

TEST_F(LogTest, TextIsTheDefaultAndFormatsCanBeSwitched) {
  net()->info("a conn={}", 1);
  ASSERT_TRUE(set_format("json"));
  net()->info("b conn={}", 2);
  ASSERT_TRUE(set_format("text"));
  net()->info("c conn={}", 3);
  const auto got = lines();
  ASSERT_EQ(got.size(), 3u) << out_.str();
  EXPECT_EQ(got[0].substr(24), " info [net] a conn=1\n");
  EXPECT_EQ(field(parse_json(got[1]), "conn"), "2");
  EXPECT_EQ(got[2].substr(24), " info [net] c conn=3\n");
}

TEST_F(LogTest, UnknownFormatIsRejectedAndChangesNothing) {
  ASSERT_TRUE(set_format("json"));
  for (const char* bad : {"", "JSON", "xml", "json ", "text,json"}) {
    EXPECT_FALSE(set_format(bad)) << bad;
  }
  store()->info("still json");
  ASSERT_EQ(lines().size(), 1u);
  EXPECT_EQ(field(parse_json(lines()[0]), "msg"), "still json");
}

TEST_F(LogTest, PerModuleLevelsFilter) {
  ASSERT_TRUE(set_levels("warn,net=debug,room=error"));
  net()->trace("net trace");
  net()->debug("net debug");
  app()->info("app info");
  app()->warn("app warn");
  room()->warn("room warn");
  room()->error("room error");
  store()->info("store info");
  store()->warn("store warn");
  const auto got = lines();
  ASSERT_EQ(got.size(), 4u) << out_.str();
  EXPECT_EQ(got[0].substr(24), " debug [net] net debug\n");
  EXPECT_EQ(got[1].substr(24), " warn [app] app warn\n");
  EXPECT_EQ(got[2].substr(24), " error [room] room error\n");
  EXPECT_EQ(got[3].substr(24), " warn [store] store warn\n");
}

TEST_F(LogTest, LevelsAcceptSpacesAliasesAndNoDefault) {
  ASSERT_TRUE(set_levels(" warning , store = err ,app=off"));
  EXPECT_EQ(net()->level(), spdlog::level::warn);
  EXPECT_EQ(room()->level(), spdlog::level::warn);
  EXPECT_EQ(store()->level(), spdlog::level::err);
  EXPECT_EQ(app()->level(), spdlog::level::off);
  ASSERT_TRUE(set_levels("net=trace"));  // No default: info.
  EXPECT_EQ(net()->level(), spdlog::level::trace);
  EXPECT_EQ(app()->level(), spdlog::level::info);
  EXPECT_EQ(store()->level(), spdlog::level::info);
}

TEST_F(LogTest, BadLevelSpecsAreRejectedAndChangeNothing) {
  ASSERT_TRUE(set_levels("error,net=debug,room=warn"));
  for (const char* bad :
       {"", " ", "loud", "INFO", "info,", ",info", "info,,net=debug", "info,net=loud",
        "info,chat=debug", "info,net", "info,warn", "net=debug,info", "info,net=debug,net=trace",
        "info,=debug", "info,net=", "info;net=debug", "info,net=debug=trace"}) {
    EXPECT_FALSE(set_levels(bad)) << '"' << bad << '"';
    EXPECT_FALSE(set_level(bad)) << '"' << bad << '"';
    EXPECT_EQ(app()->level(), spdlog::level::err) << bad;
    EXPECT_EQ(net()->level(), spdlog::level::debug) << bad;
    EXPECT_EQ(room()->level(), spdlog::level::warn) << bad;
    EXPECT_EQ(store()->level(), spdlog::level::err) << bad;
  }
}

TEST_F(LogTest, SetLevelSetsEveryModule) {
  ASSERT_TRUE(set_level("debug"));
  for (const auto& logger : {app(), net(), room(), store()}) {
    EXPECT_EQ(logger->level(), spdlog::level::debug) << logger->name();
  }
  EXPECT_EQ(modules().size(), 4u);
  for (const std::string_view module : modules()) {
    EXPECT_TRUE(set_levels("info," + std::string(module) + "=trace")) << module;
  }
}

TEST_F(LogTest, DisabledLevelsFormatNothing) {
  ASSERT_TRUE(set_levels("info"));
  g_formatted = 0;
  net()->debug("skipped v={}", Counted{});
  room()->trace("skipped v={}", Counted{});
  EXPECT_EQ(g_formatted, 0);
  EXPECT_TRUE(out_.str().empty()) << out_.str();
  net()->info("kept v={}", Counted{});
  EXPECT_EQ(g_formatted, 1);
  ASSERT_EQ(lines().size(), 1u);
  EXPECT_EQ(lines()[0].substr(24), " info [net] kept v=counted\n");
}

}  // namespace
}  // namespace huddle::log
