# HUDDLE_SANITIZE=address,undefined | thread: instrument every target.
set(HUDDLE_SANITIZE "" CACHE STRING "Sanitizers: address,undefined | thread | empty")
if(HUDDLE_SANITIZE)
  add_compile_options(-fsanitize=${HUDDLE_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${HUDDLE_SANITIZE})
  if(HUDDLE_SANITIZE MATCHES "thread")
    # GCC 12 warns (-Wtsan) at every std::atomic_thread_fence, and Boost.Asio's fenced blocks
    # run one on each handler upcall: dozens of warnings per file, which -Werror (CI) turns into
    # errors. TSan ignores fences (it can report more for them, never less).
    add_compile_options(-Wno-tsan)
  endif()
endif()
