// Structured logs: one spdlog logger per module (app, net, room, store), all writing to stderr
// through one sink and one formatter (util/log.cpp, LineFormatter).
//
// Call sites write the message first, then key=value pairs:
//   log::net()->warn("slow consumer closed conn={} bound_bytes={}", conn, bytes);
// Values run to the next " key=" (so an error text with spaces stays one value). Never log
// idea/chat text, hidden or anonymous content, or tokens at info or above (CONVENTIONS 7).
//
// Two output formats, chosen by set_format():
//   text (default):  2026-11-28T15:00:00.123Z info [app] listening addr=127.0.0.1:8080 threads=2
//   json (one object per line, every value a string; "msg" is the free text before the first
//   key=value; keys named ts/level/module/msg or repeated get a leading '_'):
//   {"ts":"2026-11-28T15:00:00.123Z","level":"info","module":"app","msg":"listening",
//    "addr":"127.0.0.1:8080","threads":"2"}
// Timestamps are UTC with milliseconds. Both formats write exactly one line per record: control
// characters are escaped (\n, \t, \u0001, ...) and invalid UTF-8 becomes U+FFFD; JSON also
// escapes '"' and '\'.
//
// Thread safety: loggers may be used from any thread. set_format/set_levels/set_level may be
// called while other threads log (each record sees the old or the new setting).
// Cost: a disabled level is one atomic load in spdlog (nothing is formatted); an enabled record is
// formatted into a stack buffer without heap allocation for ordinary lines.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include <spdlog/spdlog.h>

namespace huddle::log {

const std::shared_ptr<spdlog::logger>& net();
const std::shared_ptr<spdlog::logger>& room();
const std::shared_ptr<spdlog::logger>& store();
const std::shared_ptr<spdlog::logger>& app();

// The module names accepted by set_levels, in a fixed order: app, net, room, store.
std::span<const std::string_view> modules();

enum class Format { kText, kJson };

// Selects the output format: "text" or "json". Returns false (and changes nothing) otherwise.
[[nodiscard]] bool set_format(std::string_view format);

// Sets the module levels from a spec: a default level, then module=level pairs, comma-separated:
//   "info"   "warn,net=debug"   "info,net=debug,room=warn"   "net=trace" (default info)
// Levels: trace debug info warn (warning) error (err) critical off. Modules: see modules().
// Modules not named get the default level (info when the spec gives none). Returns false, and
// changes nothing, on an empty spec or item, an unknown level or module, a module named twice, or
// a bare level anywhere but first.
[[nodiscard]] bool set_levels(std::string_view spec);

// The same as set_levels (kept for main.cpp's --log-level).
[[nodiscard]] bool set_level(std::string_view level);

// A formatter writing one record in `format`, as the loggers do. Exposed for tests.
std::unique_ptr<spdlog::formatter> make_formatter(Format format);

// Test hook: every module logger writes to `sink` (with the current format) instead of stderr;
// nullptr restores stderr. REQUIRES: no other thread is logging (the loggers' sink lists are not
// synchronized).
void set_sink_for_testing(spdlog::sink_ptr sink);

}  // namespace huddle::log
