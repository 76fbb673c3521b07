/* The ring-0 side the escape64* guests share: with `ticks`, a timer ticking at 100 Hz (its tick
   is what interrupts escaped 64-bit code under direct execution; a guest whose escaped code
   must reach its own end goes without, so that no tick can stop it first), #GP from ring 3
   reported as the one TAP check (the guest's own descriptor answers a far jump to 0x33 where
   ring 3 is translated), and `entry` run in ring 3 with interrupts on. Does not return. */
#ifndef BT86_GUEST_ESCAPE64_RUN_H
#define BT86_GUEST_ESCAPE64_RUN_H

void escape64_run(void (*entry)(void), int ticks) __attribute__((noreturn));

/* 64-bit code, as an asm string: finds the direct-execution stub's own `syscall; ret` in its
   image at DE_STUB_BASE and leaves its address in rbx (clobbers ecx; labels 2-4). The 0F 05 is
   built in a register, so the page holds no byte pattern that sends it to bt86's translator. */
#define ESCAPE64_FIND_STUB_SYSCALL                   \
  "  movabs $0x400000000, %rbx\n" /* DE_STUB_BASE */ \
  "  mov $0x050e, %ecx\n"                            \
  "  inc %ecx\n" /* 0F 05: syscall */                \
  "2: cmpw %cx, (%rbx)\n"                            \
  "  jne 3f\n"                                       \
  "  cmpb $0xc3, 2(%rbx)\n" /* ret */                \
  "  je 4f\n"                                        \
  "3: inc %rbx\n"                                    \
  "  jmp 2b\n"                                       \
  "4:"

#endif
