#include "server/util/log.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace huddle::log {
namespace {

using spdlog::memory_buf_t;
namespace level = spdlog::level;

constexpr std::array<std::string_view, 4> kModules = {"app", "net", "room", "store"};
constexpr std::size_t kApp = 0;
constexpr std::size_t kNet = 1;
constexpr std::size_t kRoom = 2;
constexpr std::size_t kStore = 3;

// Indexed by spdlog::level::level_enum (trace..off). Shorter than spdlog's ("warning").
constexpr std::array<std::string_view, 7> kLevelNames = {"trace", "debug",    "info", "warn",
                                                         "error", "critical", "off"};

// JSON keys the formatter writes itself; a message field with one of these names is renamed.
constexpr std::array<std::string_view, 4> kReservedKeys = {"ts", "level", "module", "msg"};

void append(memory_buf_t& dest, std::string_view s) {
  dest.append(s.data(), s.data() + s.size());
}

// ---- escaping ---------------------------------------------------------------------------------

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 with `*bad` set to the length of
// its maximal ill-formed subpart (at least 1), which is replaced by one U+FFFD (Unicode 15, 3.9).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t* bad) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  unsigned char lo = 0x80;  // Range of the second byte (Table 3-7); later bytes are 80..BF.
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    lo = b0 == 0xE0 ? 0xA0 : 0x80;  // No overlong forms.
    hi = b0 == 0xED ? 0x9F : 0xBF;  // No surrogates.
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    lo = b0 == 0xF0 ? 0x90 : 0x80;  // No overlong forms.
    hi = b0 == 0xF4 ? 0x8F : 0xBF;  // Nothing above U+10FFFF.
  } else {
    *bad = 1;  // 80..C1, F5..FF never start a sequence.
    return 0;
  }
  std::size_t n = 1;
  for (; n < len && i + n < s.size(); ++n) {
    const auto b = static_cast<unsigned char>(s[i + n]);
    const bool ok = n == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) {
      break;
    }
  }
  if (n == len) {
    return len;
  }
  *bad = n;
  return 0;
}

// Appends `s` with control characters escaped and invalid UTF-8 replaced by U+FFFD; for JSON
// also '"' and '\' (and U+2028/U+2029, which some JavaScript parsers take for line breaks).
void append_escaped(memory_buf_t& dest, std::string_view s, bool json) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t run = 0;  // Start of the pending run of bytes copied as they are.
  std::size_t i = 0;
  const auto flush = [&](std::size_t end) { append(dest, s.substr(run, end - run)); };
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && (!json || (c != '"' && c != '\\'))) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      std::size_t bad = 0;
      const std::size_t len = utf8_sequence(s, i, &bad);
      const bool line_separator =
          len == 3 && c == 0xE2 && s[i + 1] == '\x80' && (s[i + 2] == '\xA8' || s[i + 2] == '\xA9');
      if (len != 0 && !(json && line_separator)) {
        i += len;
        continue;
      }
      flush(i);
      if (len == 0) {
        append(dest, "\xEF\xBF\xBD");
        i += bad;
      } else {
        append(dest, s[i + 2] == '\xA8' ? "\\u2028" : "\\u2029");
        i += len;
      }
      run = i;
      continue;
    }
    flush(i);
    switch (c) {
      case '"': append(dest, "\\\""); break;
      case '\\': append(dest, "\\\\"); break;
      case '\b': append(dest, "\\b"); break;
      case '\f': append(dest, "\\f"); break;
      case '\n': append(dest, "\\n"); break;
      case '\r': append(dest, "\\r"); break;
      case '\t': append(dest, "\\t"); break;
      default: {
        const std::array<char, 6> u = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        append(dest, std::string_view(u.data(), u.size()));
      }
    }
    ++i;
    run = i;
  }
  flush(i);
}

// ---- key=value parsing --------------------------------------------------------------------------

bool is_key_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_key_char(char c) {
  return is_key_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

// Length of the key of a `key=` token at s[pos], 0 if there is none.
std::size_t key_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size() || !is_key_start(s[pos])) {
    return 0;
  }
  std::size_t end = pos + 1;
  while (end < s.size() && is_key_char(s[end])) {
    ++end;
  }
  return end < s.size() && s[end] == '=' ? end - pos : 0;
}

// The first `key=` token at or after `from` that starts the payload or follows a space.
std::size_t find_key(std::string_view s, std::size_t from) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if ((i == 0 || s[i - 1] == ' ') && key_at(s, i) != 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  return s;
}

// A field name as written: `key` after `underscores` leading '_' (to stay unique).
struct EmittedKey {
  std::string_view key;
  std::size_t underscores;
};

// ---- the formatter ------------------------------------------------------------------------------

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(Format format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string_view module(msg.logger_name.data(), msg.logger_name.size());
    const std::string_view lvl = kLevelNames[static_cast<std::size_t>(msg.level)];
    if (format_ == Format::kText) {
      append_time(dest, msg.time);
      append(dest, " ");
      msg.color_range_start = dest.size();
      append(dest, lvl);
      msg.color_range_end = dest.size();
      append(dest, " [");
      append_escaped(dest, module, false);
      append(dest, "] ");
      append_escaped(dest, payload, false);
      append(dest, "\n");
      return;
    }
    append(dest, R"({"ts":")");
    append_time(dest, msg.time);
    append(dest, R"(","level":")");
    append(dest, lvl);
    append(dest, R"(","module":")");
    append_escaped(dest, module, true);
    append(dest, R"(","msg":")");
    std::size_t pos = find_key(payload, 0);
    append_escaped(dest, trim(payload.substr(0, pos)), true);
    append(dest, "\"");
    fmt::basic_memory_buffer<EmittedKey, 16> emitted;
    while (pos != std::string_view::npos) {
      const std::string_view key = payload.substr(pos, key_at(payload, pos));
      const std::size_t value_start = pos + key.size() + 1;
      pos = find_key(payload, value_start);
      const std::string_view value = trim(payload.substr(
          value_start, pos == std::string_view::npos ? std::string_view::npos : pos - value_start));
      const std::size_t underscores = unique_underscores(key, emitted);
      emitted.push_back(EmittedKey{key, underscores});
      append(dest, ",\"");
      for (std::size_t u = 0; u < underscores; ++u) {
        append(dest, "_");
      }
      append(dest, key);  // [A-Za-z0-9_.-] only: nothing to escape.
      append(dest, "\":\"");
      append_escaped(dest, value, true);
      append(dest, "\"");
    }
    append(dest, "}\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_);
  }

 private:
  // How many '_' to put before `key` so that it differs from the reserved keys and from every
  // field already written.
  static std::size_t unique_underscores(std::string_view key,
                                        const fmt::basic_memory_buffer<EmittedKey, 16>& emitted) {
    std::size_t underscores = 0;
    for (const auto reserved : kReservedKeys) {
      if (key == reserved) {
        underscores = 1;
      }
    }
    for (bool clash = true; clash;) {
      clash = false;
      for (const EmittedKey& e : emitted) {
        // "_a" written as ("a", 1) equals "_a" written as ("_a", 0): compare the full names.
        if (e.key.size() + e.underscores == key.size() + underscores &&
            same_name(e, EmittedKey{key, underscores})) {
          clash = true;
          ++underscores;
          break;
        }
      }
    }
    return underscores;
  }

  static bool same_name(const EmittedKey& a, const EmittedKey& b) {
    // Lengths are equal; compare character by character across the '_' prefixes.
    const std::size_t n = a.key.size() + a.underscores;
    for (std::size_t i = 0; i < n; ++i) {
      const char ca = i < a.underscores ? '_' : a.key[i - a.underscores];
      const char cb = i < b.underscores ? '_' : b.key[i - b.underscores];
      if (ca != cb) {
        return false;
      }
    }
    return true;
  }

  // "2026-11-28T15:00:00.123Z" (UTC). The part up to the seconds is cached: formatters run under
  // their sink's lock, one record at a time.
  void append_time(memory_buf_t& dest, spdlog::log_clock::time_point time) {
    using namespace std::chrono;
    const auto secs = floor<seconds>(time);
    const auto since_epoch = secs.time_since_epoch().count();
    if (since_epoch != cached_second_) {
      const auto day = floor<days>(secs);
      const year_month_day ymd{day};
      const hh_mm_ss hms{secs - day};
      const auto end =
          fmt::format_to_n(cached_.data(), cached_.size(), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                           int{ymd.year()}, unsigned{ymd.month()}, unsigned{ymd.day()},
                           hms.hours().count(), hms.minutes().count(), hms.seconds().count());
      cached_size_ = end.size < cached_.size() ? end.size : cached_.size();
      cached_second_ = since_epoch;
    }
    append(dest, std::string_view(cached_.data(), cached_size_));
    const auto millis = duration_cast<milliseconds>(time - secs).count();
    const std::array<char, 6> frac = {'.',
                                      static_cast<char>('0' + millis / 100),
                                      static_cast<char>('0' + millis / 10 % 10),
                                      static_cast<char>('0' + millis % 10),
                                      'Z',
                                      '\0'};
    append(dest, std::string_view(frac.data(), 5));
  }

  Format format_;
  std::int64_t cached_second_ = INT64_MIN;
  std::array<char, 32> cached_{};
  std::size_t cached_size_ = 0;
};

// ---- the module loggers -------------------------------------------------------------------------

std::optional<level::level_enum> parse_level(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (name == kLevelNames[i]) {
      return static_cast<level::level_enum>(i);
    }
  }
  if (name == "warning") {
    return level::warn;
  }
  if (name == "err") {
    return level::err;
  }
  return std::nullopt;
}

// The loggers, created together on first use so that every one of them sees the same sink and the
// levels set before any module logged. Process-wide by nature (spdlog's loggers are).
class Loggers {
 public:
  Loggers() : stderr_sink_(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()) {
    stderr_sink_->set_formatter(make_formatter(Format::kText));
    for (std::size_t i = 0; i < kModules.size(); ++i) {
      by_module_[i] = std::make_shared<spdlog::logger>(std::string(kModules[i]), stderr_sink_);
      by_module_[i]->set_level(level::info);
    }
  }

  const std::shared_ptr<spdlog::logger>& at(std::size_t module) const { return by_module_[module]; }

  void set_format(Format format) {
    const std::lock_guard lock(mu_);
    format_ = format;
    active_sink()->set_formatter(make_formatter(format));
  }

  void set_sink(spdlog::sink_ptr sink) {
    const std::lock_guard lock(mu_);
    test_sink_ = std::move(sink);
    active_sink()->set_formatter(make_formatter(format_));
    for (const auto& logger : by_module_) {
      logger->sinks().assign(1, active_sink());
    }
  }

 private:
  const spdlog::sink_ptr& active_sink() const { return test_sink_ ? test_sink_ : stderr_sink_; }

  std::mutex mu_;  // Serializes set_format and set_sink; logging never takes it.
  spdlog::sink_ptr stderr_sink_;
  spdlog::sink_ptr test_sink_;     // Guarded by mu_
  Format format_ = Format::kText;  // Guarded by mu_
  std::array<std::shared_ptr<spdlog::logger>, kModules.size()> by_module_;
};

Loggers& loggers() {
  static Loggers instance;
  return instance;
}

}  // namespace

const std::shared_ptr<spdlog::logger>& net() {
  return loggers().at(kNet);
}
const std::shared_ptr<spdlog::logger>& room() {
  return loggers().at(kRoom);
}
const std::shared_ptr<spdlog::logger>& store() {
  return loggers().at(kStore);
}
const std::shared_ptr<spdlog::logger>& app() {
  return loggers().at(kApp);
}

std::span<const std::string_view> modules() {
  return kModules;
}

bool set_format(std::string_view format) {
  if (format == "text") {
    loggers().set_format(Format::kText);
    return true;
  }
  if (format == "json") {
    loggers().set_format(Format::kJson);
    return true;
  }
  return false;
}

bool set_levels(std::string_view spec) {
  std::optional<level::level_enum> fallback;
  std::array<std::optional<level::level_enum>, kModules.size()> per_module;
  if (trim(spec).empty()) {
    return false;
  }
  bool first = true;
  while (true) {
    const std::size_t comma = spec.find(',');
    const std::string_view item = trim(spec.substr(0, comma));
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      const auto lvl = parse_level(item);
      if (!first || !lvl) {
        return false;
      }
      fallback = lvl;
    } else {
      const std::string_view name = trim(item.substr(0, eq));
      const auto lvl = parse_level(trim(item.substr(eq + 1)));
      std::size_t module = 0;
      while (module < kModules.size() && kModules[module] != name) {
        ++module;
      }
      if (module == kModules.size() || !lvl || per_module[module]) {
        return false;
      }
      per_module[module] = lvl;
    }
    first = false;
    if (comma == std::string_view::npos) {
      break;
    }
    spec.remove_prefix(comma + 1);
  }
  for (std::size_t i = 0; i < kModules.size(); ++i) {
    loggers().at(i)->set_level(per_module[i].value_or(fallback.value_or(level::info)));
  }
  return true;
}

bool set_level(std::string_view level) {
  return set_levels(level);
}

std::unique_ptr<spdlog::formatter> make_formatter(Format format) {
  return std::make_unique<LineFormatter>(format);
}

void set_sink_for_testing(spdlog::sink_ptr sink) {
  loggers().set_sink(std::move(sink));
}

}  // namespace huddle::log
