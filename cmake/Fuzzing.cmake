# HUDDLE_FUZZ=ON: the libFuzzer targets in tests/fuzz (clang only; see tests/fuzz/README.md).
# Every target of the build is compiled with coverage instrumentation for libFuzzer
# (-fsanitize=fuzzer-no-link) and ASan + UBSan (UBSan aborts, so libFuzzer sees each report as
# a crash); only the fuzz executables link libFuzzer itself (-fsanitize=fuzzer, in
# tests/fuzz/CMakeLists.txt). Use a build directory of its own (build/fuzz).
if(HUDDLE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HUDDLE_FUZZ=ON needs clang: -DCMAKE_CXX_COMPILER=clang++ "
                        "(Debian: apt-get install clang libclang-rt-14-dev)")
  endif()
  if(HUDDLE_SANITIZE)
    message(FATAL_ERROR "HUDDLE_FUZZ=ON sets its own sanitizers; leave HUDDLE_SANITIZE empty")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
