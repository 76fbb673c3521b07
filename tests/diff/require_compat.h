// The native side of the differential tests runs instructions in 32-bit compatibility mode;
// on a host that cannot (see hostexec/host_compat.h) the comparison is impossible, and the test says
// so as a skip with the reason instead of crashing. scripts/vm/ runs them in a VM that can.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "hostexec/host_compat.h"

#define BT86_REQUIRE_COMPAT_MODE()                                    \
  do {                                                                \
    std::string bt86_why_;                                            \
    if (!hostexec::compat_mode_available(&bt86_why_))                      \
      GTEST_SKIP() << "no native oracle on this host: " << bt86_why_; \
  } while (0)
