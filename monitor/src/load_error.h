// A kernel or initrd file bt86 cannot boot: the message names the file and the problem.
#pragma once

#include <stdexcept>

namespace monitor {

struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace monitor
