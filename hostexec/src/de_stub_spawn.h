// Starting the direct-execution stub program (de_stub/), whose image is linked into bt86.
#pragma once

#include <sys/types.h>

namespace hostexec::de {

// posix_spawn (clone(CLONE_VM|CLONE_VFORK) + execve: nothing of the monitor is copied into the
// child) of the stub with guest RAM as DE_STUB_RAM_FD and the control page as
// DE_STUB_CONTROL_FD, default signal dispositions, nothing blocked, an empty environment. Returns
// its pid; throws std::runtime_error on failure.
pid_t spawn_stub(int ram_fd, int control_fd);

}  // namespace hostexec::de
