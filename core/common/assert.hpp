// HUDDLE_DCHECK: debug-only invariant. HUDDLE_CHECK: always fatal (continuing would corrupt state).
// HUDDLE_BUG: fatal in debug; in release it logs to stderr once per call site and continues.
#pragma once

#include <cstdio>
#include <cstdlib>

#define HUDDLE_CHECK(cond)                                                                   \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "HUDDLE_CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)

#ifdef NDEBUG
#define HUDDLE_DCHECK(cond) \
  do {                      \
  } while (false)
#define HUDDLE_BUG(msg)                                                           \
  do {                                                                            \
    static bool huddle_bug_logged = false;                                        \
    if (!huddle_bug_logged) {                                                     \
      huddle_bug_logged = true;                                                   \
      std::fprintf(stderr, "HUDDLE_BUG: %s at %s:%d\n", msg, __FILE__, __LINE__); \
    }                                                                             \
  } while (false)
#else
#define HUDDLE_DCHECK(cond) HUDDLE_CHECK(cond)
#define HUDDLE_BUG(msg)                                                         \
  do {                                                                          \
    std::fprintf(stderr, "HUDDLE_BUG: %s at %s:%d\n", msg, __FILE__, __LINE__); \
    std::abort();                                                               \
  } while (false)
#endif
