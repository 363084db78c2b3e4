#include "server/util/log.hpp"

#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace huddle::log {
namespace {

std::shared_ptr<spdlog::logger> get(const char* name) {
  if (auto existing = spdlog::get(name)) {
    return existing;
  }
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  logger->set_level(spdlog::get_level());
  return logger;
}

}  // namespace

std::shared_ptr<spdlog::logger> net() {
  static auto logger = get("net");
  return logger;
}
std::shared_ptr<spdlog::logger> room() {
  static auto logger = get("room");
  return logger;
}
std::shared_ptr<spdlog::logger> store() {
  static auto logger = get("store");
  return logger;
}
std::shared_ptr<spdlog::logger> app() {
  static auto logger = get("app");
  return logger;
}

bool set_level(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return false;
  }
  spdlog::set_level(lvl);
  for (const auto& logger : {net(), room(), store(), app()}) {
    logger->set_level(lvl);
  }
  return true;
}

}  // namespace huddle::log
