# Warnings are errors for every natcert target; sanitizers are opt-in for the asan-ubsan preset.
add_library(natcert_warnings INTERFACE)
target_compile_options(natcert_warnings INTERFACE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 at -O3 reports impossible sizes for inlined std::string and byte stores (GCC PR 105329,
  # PR 105651); clang and the other GCC builds keep checking these.
  target_compile_options(natcert_warnings INTERFACE -Wno-restrict -Wno-stringop-overflow)
endif()

if(NATCERT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# NATCERT_FUZZ_SANITIZERS=OFF leaves the instrumentation to CXXFLAGS (ClusterFuzzLite's build.sh
# passes its own sanitizer and coverage flags there).
option(NATCERT_FUZZ_SANITIZERS "With NATCERT_FUZZ: add ASan+UBSan and fuzzer instrumentation" ON)
if(NATCERT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NATCERT_FUZZ needs clang (use the fuzz preset)")
  endif()
  if(NATCERT_FUZZ_SANITIZERS)
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
  endif()
  # Coverage feedback on natcert's code, not the standard library's (fuzz/coverage-ignorelist.txt).
  # Only where sanitizer coverage is on: clang rejects the unused flag under -Werror, e.g. in an
  # OSS-Fuzz/ClusterFuzzLite source-coverage build (-fprofile-instr-generate, no -fsanitize=fuzzer).
  if(NATCERT_FUZZ_SANITIZERS OR CMAKE_CXX_FLAGS MATCHES "-fsanitize=[^ ]*fuzzer|-fsanitize-coverage=")
    add_compile_options("-fsanitize-coverage-ignorelist=${PROJECT_SOURCE_DIR}/fuzz/coverage-ignorelist.txt")
  endif()
endif()
