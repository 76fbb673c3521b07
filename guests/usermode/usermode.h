/* What the usermode guest's C and assembly halves agree on. */
#ifndef BT86_USERMODE_H
#define BT86_USERMODE_H

/* System calls of this guest, after the runtime's SYS_EXIT and SYS_WRITE. */
#define SYS_GET_COUNTER 2 /* returns an incrementing counter */
#define SYS_PROBE 3       /* records the trap frame, returns PROBE_RESULT */

#define PROBE_EBX 0x11111111
#define PROBE_ECX 0x22222222
#define PROBE_EDX 0x33333333
#define PROBE_ESI 0x44444444
#define PROBE_EDI 0x55555555
#define PROBE_EBP 0x66666666
#define PROBE_RESULT 0x600dcafe

#define EFLAGS_CF_BIT 0x001
#define EFLAGS_DF_BIT 0x400

/* user_probe's result: the registers that did not survive the system call. */
#define PROBE_BAD_FLAGS 0x01
#define PROBE_BAD_EBX 0x02
#define PROBE_BAD_ECX 0x04
#define PROBE_BAD_EDX 0x08
#define PROBE_BAD_ESI 0x10
#define PROBE_BAD_EDI 0x20
#define PROBE_BAD_EBP 0x40
#define PROBE_BAD_ESP 0x80

#ifndef __ASSEMBLER__
#include <stdint.h>

uint32_t user_probe(void);
extern uint32_t probe_user_esp;
extern uint32_t probe_result;
#endif

#endif
