# Fuzz targets (included by tests/CMakeLists.txt).
#
# imi_add_fuzz(<name> <source> <lib>...)
#   <source> defines LLVMFuzzerTestOneInput. Its seed corpus is the folder
#   tests/fuzz/corpus_<name without "_fuzz">/ (json_fuzz -> corpus_json/).
#   It registers the CTest test fuzz/<name>, which runs in bounded time:
#   - clang (CMAKE_CXX_COMPILER_ID MATCHES Clang, libFuzzer available): the
#     target is built with -fsanitize=fuzzer,address, and so are private copies
#     of the listed imi_* libraries (imi_ledger_fuzz, ...) so coverage reaches
#     the code under test. The test runs libFuzzer for at most
#     IMI_FUZZ_SECONDS seconds and IMI_FUZZ_RUNS inputs, reading the seed
#     corpus and writing new inputs to the build tree, never to the source tree.
#   - otherwise (the default g++ build): the target is linked with
#     standalone_main.cc, which feeds every seed file and then
#     IMI_FUZZ_MUTATIONS deterministic mutations (fixed seed) through the same
#     LLVMFuzzerTestOneInput.
#   A missing corpus folder is allowed (the run starts from an empty input).
#   Register each target with one call at the end of this file.

set(IMI_FUZZ_SECONDS 20 CACHE STRING "libFuzzer -max_total_time for each fuzz test")
set(IMI_FUZZ_RUNS 2000000 CACHE STRING "libFuzzer -runs cap for each fuzz test")
set(IMI_FUZZ_MUTATIONS 20000 CACHE STRING "mutations per fuzz test without libFuzzer")
set(IMI_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

set(IMI_HAVE_LIBFUZZER OFF)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer,address")
  check_cxx_source_compiles([[
    #include <cstddef>
    #include <cstdint>
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }
  ]] IMI_LIBFUZZER_LINKS)
  unset(CMAKE_REQUIRED_FLAGS)
  if(IMI_LIBFUZZER_LINKS)
    set(IMI_HAVE_LIBFUZZER ON)
  else()
    message(STATUS "clang without libFuzzer: fuzz targets use the standalone driver")
  endif()
endif()

# _imi_fuzz_lib(<lib> <out-var>): for an imi_* library, a copy of it (and of
# the imi_* libraries it links) compiled with fuzzer coverage and ASan;
# anything else is returned unchanged.
function(_imi_fuzz_lib lib out)
  if(NOT TARGET ${lib} OR NOT lib MATCHES "^imi_")
    set(${out} ${lib} PARENT_SCOPE)
    return()
  endif()
  set(copy ${lib}_fuzz)
  if(NOT TARGET ${copy})
    get_target_property(type ${lib} TYPE)
    if(type STREQUAL "STATIC_LIBRARY")
      get_target_property(deps ${lib} LINK_LIBRARIES)
    else()
      get_target_property(deps ${lib} INTERFACE_LINK_LIBRARIES)
    endif()
    set(mapped)
    if(deps)
      foreach(dep ${deps})
        _imi_fuzz_lib(${dep} m)
        list(APPEND mapped ${m})
      endforeach()
    endif()
    if(type STREQUAL "STATIC_LIBRARY")
      get_target_property(srcs ${lib} SOURCES)
      get_target_property(incs ${lib} INTERFACE_INCLUDE_DIRECTORIES)
      add_library(${copy} STATIC EXCLUDE_FROM_ALL ${srcs})
      target_compile_options(${copy} PRIVATE -fsanitize=fuzzer-no-link,address)
      target_link_libraries(${copy} PUBLIC ${mapped})
      if(incs)
        target_include_directories(${copy} SYSTEM PUBLIC ${incs})
      endif()
    else()
      add_library(${copy} INTERFACE)
      target_link_libraries(${copy} INTERFACE ${mapped})
    endif()
  endif()
  set(${out} ${copy} PARENT_SCOPE)
endfunction()

function(imi_add_fuzz name source)
  string(REGEX REPLACE "_fuzz$" "" stem ${name})
  set(corpus ${IMI_FUZZ_DIR}/corpus_${stem})
  if(NOT IS_DIRECTORY ${corpus})
    set(corpus)
  endif()
  if(IMI_HAVE_LIBFUZZER)
    set(libs)
    foreach(lib ${ARGN})
      _imi_fuzz_lib(${lib} m)
      list(APPEND libs ${m})
    endforeach()
    add_executable(${name} ${source})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address)
    target_link_libraries(${name} PRIVATE ${libs})
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz_corpus/${name})
    file(MAKE_DIRECTORY ${work})
    # The first directory receives new inputs; the seed corpus is only read.
    add_test(NAME fuzz/${name}
             COMMAND ${name} -max_total_time=${IMI_FUZZ_SECONDS} -runs=${IMI_FUZZ_RUNS}
                     -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${work} ${corpus})
  else()
    add_executable(${name} ${source} ${IMI_FUZZ_DIR}/standalone_main.cc)
    target_link_libraries(${name} PRIVATE ${ARGN})
    add_test(NAME fuzz/${name} COMMAND ${name} -mutations=${IMI_FUZZ_MUTATIONS} -seed=1 ${corpus})
  endif()
  set_tests_properties(fuzz/${name} PROPERTIES TIMEOUT 300 WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endfunction()

imi_add_fuzz(json_fuzz ${IMI_FUZZ_DIR}/json_fuzz.cc imi_ledger)
imi_add_fuzz(tx_fuzz ${IMI_FUZZ_DIR}/tx_fuzz.cc imi_ledger)
