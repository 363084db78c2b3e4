// Shared by the fuzz targets: a failed check prints what failed and aborts, which libFuzzer
// reports as a crash and saves the input (tests/fuzz/README.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <google/protobuf/stubs/logging.h>

namespace huddle::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  std::abort();
}

// Protobuf logs every refused proto3 string that is not UTF-8; at thousands of inputs a second
// that is noise, and the decoders report the refusal themselves.
inline void quiet_protobuf_logs() {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
}

// The input as a stream of choices; 0 (and empty strings) once it runs out.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  [[nodiscard]] bool empty() const { return p_ >= end_; }
  [[nodiscard]] std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
  [[nodiscard]] const std::uint8_t* position() const { return p_; }
  std::uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v = (v << 8) | byte();
    }
    return v;
  }
  // [0, n) for n > 0: one byte when n <= 256, else two.
  std::uint64_t below(std::uint64_t n) {
    if (n <= 256) {
      return byte() % n;
    }
    return ((std::uint64_t{byte()} << 8) | byte()) % n;
  }
  std::string take(std::size_t n) {
    n = std::min(n, left());
    std::string out(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return out;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace huddle::fuzz

#define HUDDLE_FUZZ_CHECK(cond)                        \
  do {                                                 \
    if (!(cond)) {                                     \
      ::huddle::fuzz::fail(__FILE__, __LINE__, #cond); \
    }                                                  \
  } while (false)
