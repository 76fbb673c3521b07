/* System calls from ring 3: `int $0x80` with the number in EAX and arguments in EBX, ECX, EDX;
   the result comes back in EAX and every other register (and EFLAGS) is preserved.
   The kernel side needs desc_init() and idt_init() first. */
#ifndef BT86_GUEST_SYSCALL_H
#define BT86_GUEST_SYSCALL_H

#include <stdint.h>

#include "idt.h"

#define SYSCALL_VECTOR 0x80

enum {
  SYS_EXIT = 0,  /* (code): user_run() returns code */
  SYS_WRITE = 1, /* (buf, len): bytes to the console; returns len */
  SYS_FIRST_FREE = 2,
  SYS_MAX = 16,
};
#define SYS_ENOSYS 0xffffffffu /* the result of an unknown number */

/* The handler's return value becomes the caller's EAX. */
typedef uint32_t (*syscall_fn)(struct trap_frame* frame);

/* Installs the DPL-3 interrupt gate and the SYS_EXIT and SYS_WRITE handlers. */
void syscall_init(void);
void syscall_register(uint32_t number, syscall_fn fn);

/* The user side. */
static inline uint32_t sys_call3(uint32_t nr, uint32_t a, uint32_t b, uint32_t c) {
  uint32_t ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return ret;
}
static inline uint32_t sys_call0(uint32_t nr) {
  return sys_call3(nr, 0, 0, 0);
}
static inline uint32_t sys_write(const char* buf, uint32_t len) {
  return sys_call3(SYS_WRITE, (uint32_t)buf, len, 0);
}
static inline __attribute__((noreturn)) void sys_exit(uint32_t code) {
  sys_call3(SYS_EXIT, code, 0, 0);
  __builtin_unreachable();
}

#endif
