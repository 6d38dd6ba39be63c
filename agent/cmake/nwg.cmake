# Helpers shared by every folder of the agent, so each folder's CMakeLists.txt stays a few lines.
#
# Test layers are CTest labels; scripts/test runs them layer by layer:
#   unit         no root, no network, milliseconds
#   integration  root, network namespaces, wireguard-go
#   interop      a real RabbitMQ and Python oslo.messaging peers (env NWG_TEST_TRANSPORT_URL)
#   vm           kernel WireGuard inside a qemu VM
#   e2e          the full stack: neutron-server, RabbitMQ, MariaDB, the agent, wireguard-go
# A test that cannot run here (not root, no service) skips itself through NWG_REQUIRE (testing/testing.h),
# printing what is missing; CTest reports it as skipped. scripts/test sets NWG_TEST_REQUIRE_ALL=1, which
# turns every such skip into a failure: CI never skips what CI can run.

# nwg_library(NAME SOURCES... [DEPS targets...])
function(nwg_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/agent)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# nwg_test(NAME LABEL SOURCES... DEPS targets...) : a GoogleTest binary registered test by test.
function(nwg_test name)
  if(NOT NWG_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} nwg_testing GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name}
    PROPERTIES LABELS ${ARG_LABEL} SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]" TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()

# nwg_fuzzer(NAME SOURCE DEPS targets...) : a libFuzzer target, built only with -DNWG_FUZZ=ON.
function(nwg_fuzzer name)
  if(NOT NWG_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_property(GLOBAL APPEND PROPERTY NWG_FUZZERS ${name})
endfunction()

# nwg_benchmark(NAME SOURCES... DEPS targets...) : a Google Benchmark or plain reporting binary.
function(nwg_benchmark name)
  if(NOT NWG_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()
