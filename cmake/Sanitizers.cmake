# HUDDLE_SANITIZE=address,undefined | thread: instrument every target.
set(HUDDLE_SANITIZE "" CACHE STRING "Sanitizers: address,undefined | thread | empty")
if(HUDDLE_SANITIZE)
  add_compile_options(-fsanitize=${HUDDLE_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${HUDDLE_SANITIZE})
endif()
