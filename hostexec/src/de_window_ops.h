// Trimming a batch of window changes before it goes to the direct-execution process: every
// entry to ring 3 parks the supervisor pages the kernel used (mprotect PROT_NONE) and every
// kernel entry gives them back, so between two entries the queue holds a give-back and a park
// of the same runs. Only the last protection of a range counts; the earlier one would cost the
// stub a system call and, when it grants access, a round trip to the monitor for approval. A
// CR3 switch maps back an address space's recent pages one by one: runs of them go as one.
#pragma once

#include <vector>

#include "hostexec/de_process.h"

namespace hostexec::de {

// Drops each Protect that a later Protect of exactly the same range replaces, with no change
// touching that range in between: the window ends up the same.
void drop_superseded_protects(std::vector<DeProcess::WindowOp>& ops);

// Joins consecutive changes that continue each other (the same kind and protection, the next
// window pages, for a map the next RAM pages): one system call, one approval, for a run.
void merge_adjacent(std::vector<DeProcess::WindowOp>& ops);

}  // namespace hostexec::de
