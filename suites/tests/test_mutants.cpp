#include <gtest/gtest.h>

#include "natcert/harness/mutants.hpp"
#include "natcert/suites/suites.hpp"

namespace natcert::suites {
namespace {

harness::Registry& registry() {
  static harness::Registry instance = [] {
    harness::Registry r;
    register_all(r);
    return r;
  }();
  return instance;
}

TEST(Suites, EveryTestIsWellFormed) {
  for (const harness::TestCase* test : registry().all()) {
    EXPECT_TRUE(harness::validate(*test).empty()) << test->id;
  }
}

}  // namespace
}  // namespace natcert::suites
