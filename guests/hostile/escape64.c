/* A far jump from ring 3 to 0x33, the x86-64 host's 64-bit user code selector, into a 64-bit
   spin loop (SECURITY.md, issue 12). On a Pentium III the guest's own descriptor decides: here
   GDT index 6 is empty, so #GP(0x30), which this guest reports as passing. A VMM that runs ring
   3 directly on an x86-64 host cannot see that far jump; bt86 must then never return into the
   64-bit code: the next timer tick stops the VM with a "security:" report (exit status 4),
   which scripts/vm/compat-suite.sh checks. */
#include <stdint.h>

#include "escape64_run.h"
#include "multiboot.h"

void escape64(void);
/* On a page of its own, so that no byte pattern elsewhere (cpuid, syscall, ...) sends the page
   to bt86's translator instead of running it directly. */
__asm__(
    ".text\n"
    ".p2align 12\n"
    "escape64:\n"
    "  ljmp $0x33, $spin64\n"
    "spin64:\n"
    "  jmp spin64\n" /* EB FE: the same loop in 64-bit mode */
    ".p2align 12\n");

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  escape64_run(escape64, 1);
}
