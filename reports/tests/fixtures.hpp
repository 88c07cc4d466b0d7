// Sample runs for the report tests: a hand-built one full of hostile strings and bytes, and a real one
// produced by the harness on the in-process reference NAT.
#pragma once

#include <filesystem>
#include <string>

#include "natcert/harness/result.hpp"

namespace natcert::reports::testing {

inline constexpr const char* hostile = "<script>alert(1)</script>&\"'";

// Every field set; strings carry markup, quotes, control characters and invalid UTF-8.
harness::RunResult hostile_run();
// A run of a few example tests (PASS, FAIL, WARN, SKIP, ERROR) on the in-process reference NAT.
harness::RunResult real_run();

// A fresh, empty directory under the system temp directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace natcert::reports::testing
