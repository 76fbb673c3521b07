/* What the stub's C files share (not part of the contract with the monitor). */
#ifndef BT86_DE_STUB_INTERNAL_H
#define BT86_DE_STUB_INTERNAL_H

long de_stub_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
long de_stub_sys(long nr, long a1, long a2, long a3);
void de_stub_die(int status) __attribute__((noreturn));
unsigned long de_stub_image_end(void);
void de_stub_install_signals(void);
long de_stub_enter(void);
extern char __executable_start[], _end[];

#endif
