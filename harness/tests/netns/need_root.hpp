// The privilege guard of the namespace tests: they skip when unprivileged, except in CI (CI set),
// where they must run, so there a missing privilege fails them.
#pragma once

#include <cstdlib>

#include <gtest/gtest.h>

#include "natcert/harness/netns_testbed.hpp"

#define NEED_ROOT()                                                                                          \
  do {                                                                                                       \
    if (!natcert::harness::netns_privileged()) {                                                             \
      if (std::getenv("CI") != nullptr) FAIL() << "CI must run harness_netns_tests as root (CAP_NET_ADMIN)"; \
      GTEST_SKIP() << "needs root (CAP_NET_ADMIN): run as root";                                             \
    }                                                                                                        \
  } while (0)
