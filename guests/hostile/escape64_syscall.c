/* A far jump from ring 3 to 0x33, the x86-64 host's 64-bit user code selector, into 64-bit code
   that tries a host system call (SECURITY.md, issue 12): it looks for a `syscall; ret` in the
   direct-execution stub's image above 4 GiB (the only instruction the stub's seccomp filter lets
   system calls come from) and calls it to create a canary file on the host. On a Pentium III
   the guest's own descriptor decides: here GDT index 6 is empty, so #GP(0x30), which this guest
   reports as passing. Under bt86's direct execution the 64-bit code runs only in the confined
   process, whose filter kills it at the call: the VM must stop with a "security:" report (exit
   status 4) and the canary must not exist (scripts/vm/compat-suite.sh checks both). */
#include <stdint.h>

#include "escape64_run.h"
#include "multiboot.h"

const char bt86_escape_canary[] = "/tmp/bt86-escape-canary";

void escape64_syscall(void);
/* On a page of its own, with no byte pattern (cpuid, syscall, ...) that would send the page to
   bt86's translator: the 0F 05 it looks for is built in a register. */
__asm__(
    ".text\n"
    ".p2align 12\n"
    "escape64_syscall:\n"
    "  ljmp $0x33, $1f\n"
    ".code64\n"
    "1:" ESCAPE64_FIND_STUB_SYSCALL
    "  mov $257, %eax\n" /* openat(AT_FDCWD, canary, O_CREAT | O_WRONLY, 0644) */
    "  mov $-100, %rdi\n"
    "  mov $bt86_escape_canary, %esi\n"
    "  mov $0x41, %edx\n"
    "  mov $0644, %r10d\n"
    "  call *%rbx\n"
    "5: jmp 5b\n"
    ".code32\n"
    ".p2align 12\n");

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  escape64_run(escape64_syscall, 0);
}
