#ifndef BT86_HOSTILE_PROBES_H
#define BT86_HOSTILE_PROBES_H

#define PROBE_SYS_EXIT 0 /* the runtime's SYS_EXIT */

#ifndef __ASSEMBLER__
#include <stdint.h>
extern const char probe_bound[], resume_bound[], probe_far23[], resume_far23[], probe_ss2b[],
    resume_ss2b[];
extern uint32_t ac_loaded;
void ring3_probes(void);
#endif

#endif
