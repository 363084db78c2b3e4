# Every dependency is a Debian 12 package (see the Makefile's DEBIAN_PACKAGES). Nothing is downloaded.
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS program_options)  # libboost1.81-dev (Asio, Beast;
                                                   # header-only), libboost-program-options1.81-dev
find_package(Protobuf 3.21 REQUIRED)               # module mode: protobuf 3.21 ships no CMake config
find_package(RocksDB 7.8 REQUIRED CONFIG)          # librocksdb-dev
find_package(spdlog REQUIRED CONFIG)               # libspdlog-dev
find_package(fmt REQUIRED CONFIG)                  # libfmt-dev (spdlog uses the external fmt)
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBJWT REQUIRED IMPORTED_TARGET libjwt)  # libjwt-dev 1.10 (server/auth)

# Asio and Beast are compiled once, in huddle_asio (server/util/asio_impl.cpp), instead of in
# every translation unit that includes them: the single biggest build-time lever on 2 cores.
add_library(huddle_asio_flags INTERFACE)
target_compile_definitions(huddle_asio_flags INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(huddle_asio_flags INTERFACE Boost::headers Threads::Threads)
