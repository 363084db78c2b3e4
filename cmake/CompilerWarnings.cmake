# huddle_set_warnings(<target>): the project's warning set; -Werror when CI=true.
function(huddle_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wconversion
    -Wno-sign-conversion -Wno-missing-field-initializers)  # Designated initializers omit defaults on purpose.
  if(DEFINED ENV{CI} AND "$ENV{CI}" STREQUAL "true")
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
