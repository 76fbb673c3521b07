/* hlt as the monitor must handle it, chosen by the command line:
     sleep     the PIT ticks at 100 Hz and the guest waits in sti; hlt forever (saying so after
               20 ticks): only Ctrl-C (SIGINT) ends it, and the host must sleep, not spin
     cli       cli; hlt: nothing can wake the guest, bt86 must stop with a report
     no-timer  sti; hlt with no device programmed: bt86 must stop with a report */
#include <stdint.h>

#include "kprintf.h"
#include "mt_pc.h"
#include "serial.h"

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  serial_init();
  const char* mode = mt_cmdline(mbi);
  mt_cpu_init();
  mt_pic_init();
  if (mt_streq(mode, "sleep")) {
    mt_pit_start(11932); /* 100 Hz */
    kprintf("sleeping in hlt\n");
    /* The tests' cue for Ctrl-C: 200 ms of ticks, past a --stats-interval of 50 ms. */
    while (mt_ticks < 20) __asm__ volatile("sti; hlt" ::: "memory");
    kprintf("slept through 20 ticks\n");
    for (;;) __asm__ volatile("sti; hlt" ::: "memory");
  }
  if (mt_streq(mode, "cli")) {
    kprintf("cli; hlt\n");
    for (;;) __asm__ volatile("cli; hlt" ::: "memory");
  }
  if (mt_streq(mode, "no-timer")) {
    kprintf("sti; hlt with no timer\n");
    for (;;) __asm__ volatile("sti; hlt" ::: "memory");
  }
  kprintf("unknown mode '%s'\n", mode);
  return 1;
}
