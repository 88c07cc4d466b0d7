// Build identification, captured by CMake at configure time.
#pragma once

#include <string_view>

namespace natcert::harness {

std::string_view natcert_version();  // project(VERSION), e.g. "0.1.0"
std::string_view git_revision();     // `git describe --always --dirty` at configure time, or "unknown"

}  // namespace natcert::harness
