// Shared by the store's unit tests: a fresh directory per test, an append that waits for its
// callback, and an open that fails the test instead of returning an error.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/store/rocksdb_event_log.hpp"

namespace huddle::store::store_test {

inline constexpr auto kDeadline = std::chrono::seconds(30);

// A fresh directory named after the running test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info == nullptr ? std::string("none")
                                       : std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) {
      if (c == '/' || c == '<' || c == '>' || c == ':' || c == ' ') {
        c = '_';
      }
    }
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("huddle_store_" + name + "_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter++));
    std::filesystem::remove_all(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Appends and waits for the callback (kInternal and a test failure if it never runs).
inline boost::system::error_code append_wait(EventLog& log, std::vector<AppendRecord> records) {
  auto done = std::make_shared<std::promise<boost::system::error_code>>();
  auto result = done->get_future();
  log.append(std::move(records), [done](boost::system::error_code ec) { done->set_value(ec); });
  if (result.wait_for(kDeadline) != std::future_status::ready) {
    ADD_FAILURE() << "append callback never ran";
    return make_error_code(Errc::kInternal);
  }
  return result.get();
}

inline boost::system::error_code append_one(EventLog& log, AppendRecord record) {
  std::vector<AppendRecord> records;
  records.push_back(std::move(record));
  return append_wait(log, std::move(records));
}

inline std::unique_ptr<RocksDbEventLog> open_or_fail(const RocksDbOptions& options) {
  auto log = RocksDbEventLog::open(options);
  if (!log) {
    ADD_FAILURE() << "open failed: " << log.error().message();
    return nullptr;
  }
  return std::move(*log);
}

}  // namespace huddle::store::store_test
