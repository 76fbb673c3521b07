// The host's extended register state around direct execution (SECURITY.md, issue 12 item 4).
//
// The world switch saves the monitor's whole XSAVE state (every user component the host OS
// enabled in XCR0: x87, SSE, AVX, AVX-512 masks and upper halves, PKRU, ...) and resets every
// component before the guest's x87/SSE image is loaded, so guest code sees nothing of the
// monitor's and cannot leave anything (PKRU included) behind for it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace hostexec::de {

class HostXState {
 public:
  // Throws std::runtime_error when the host has no XSAVE (direct execution is then off).
  HostXState();
  uint8_t* host_area() { return host_.get(); }
  const uint8_t* init_area() const { return init_.get(); }
  uint64_t mask() const { return mask_; }
  bool have_pku() const { return pku_; }
  // The calling thread's PKRU (0 without PKU).
  uint32_t read_pkru() const;

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> host_, init_;
  uint64_t mask_ = 0;
  bool pku_ = false;
};

}  // namespace hostexec::de
