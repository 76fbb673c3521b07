#include "syscall.h"

#include "kprintf.h"
#include "user.h"

static syscall_fn table[SYS_MAX];

static uint32_t sys_exit_handler(struct trap_frame* f) {
  user_return(f->ebx);
}

static uint32_t sys_write_handler(struct trap_frame* f) {
  /* Paging is off and the user segments are flat: the user pointer is usable as is. */
  const char* p = (const char*)f->ebx;
  for (uint32_t i = 0; i < f->ecx; i++) kputc(p[i]);
  return f->ecx;
}

static void dispatch(struct trap_frame* f) {
  syscall_fn fn = f->eax < SYS_MAX ? table[f->eax] : 0;
  f->eax = fn ? fn(f) : SYS_ENOSYS;
}

void syscall_register(uint32_t number, syscall_fn fn) {
  if (number < SYS_MAX) table[number] = fn;
}

void syscall_init(void) {
  syscall_register(SYS_EXIT, sys_exit_handler);
  syscall_register(SYS_WRITE, sys_write_handler);
  idt_set_gate(SYSCALL_VECTOR, GATE_INTERRUPT, 3);
  trap_register(SYSCALL_VECTOR, dispatch);
}
