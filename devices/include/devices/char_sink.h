// Where a serial port's transmitted bytes go (the monitor writes them to stdout).
#pragma once

#include <cstdint>

namespace devices {

class CharSink {
 public:
  virtual ~CharSink() = default;
  virtual void put(uint8_t byte) = 0;
};

}  // namespace devices
