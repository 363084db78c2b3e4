// One spdlog logger per module. Message first, then key=value. Never log user text at info+.
#pragma once

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

namespace huddle::log {

std::shared_ptr<spdlog::logger> net();
std::shared_ptr<spdlog::logger> room();
std::shared_ptr<spdlog::logger> store();
std::shared_ptr<spdlog::logger> app();

// Sets the level of every module logger ("trace".."off"). Returns false on an unknown name.
bool set_level(std::string_view level);

}  // namespace huddle::log
