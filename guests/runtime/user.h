/* Ring 3: running a function as user code and getting back to the kernel. One user program
   at a time; needs desc_init() (user segments, TSS) and idt_init(). */
#ifndef BT86_GUEST_USER_H
#define BT86_GUEST_USER_H

#include <stdint.h>

/* Enters `entry` in ring 3 through iret, on the stack ending at `stack_top`, with DS/ES/FS/GS
   = SEL_USER_DATA and EFLAGS = `eflags` (e.g. EFLAGS_IF, EFLAGS_IOPL(3); the reserved bit is
   added). Returns the value a trap handler passes to user_return(), with the kernel's
   segments, callee-saved registers and EFLAGS as they were at the call. `entry` must not
   return: it ends with a system call whose handler calls user_return(). */
uint32_t user_run(void (*entry)(void), void* stack_top, uint32_t eflags);

/* From a trap handler: abandons the ring-3 program and its trap frame and returns `value`
   from user_run(). */
void user_return(uint32_t value) __attribute__((noreturn));

#endif
