/* A higher-half kernel: physical 0 .. 4 MiB also at KERNEL_HIGH. Code runs there with its
   low page unmapped, data is reached through either alias, and once a low identity mapping is
   removed, access through it faults (CR2 and the error code as for any not-present page). */
#include <stdint.h>

#include "desc.h"
#include "paging_guest.h"
#include "tap.h"

/* Alone in its page (page sized and aligned), so its low mapping can go. */
static volatile uint32_t hh_data[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));

static uint32_t high(uint32_t low) {
  return low + KERNEL_HIGH;
}

typedef uint32_t (*hh_fn)(volatile uint32_t*, uint32_t);

void check_higher_half(void) {
  map_range(kernel_pd, KERNEL_HIGH, 0, IDENTITY_END, PTE_RW);

  hh_data[0] = 0x1234abcd;
  uint32_t via_high = kread(high((uint32_t)&hh_data[0]));
  kwrite(high((uint32_t)&hh_data[1]), 0x5678ef01);
  tap_ok(via_high == 0x1234abcd && hh_data[1] == 0x5678ef01,
         "data at 0x%08x and at its alias 0x%08x are the same memory (read 0x%08x)",
         (uint32_t)&hh_data[0], high((uint32_t)&hh_data[0]), via_high);

  /* Code: with the low mapping of hh_run's page gone, only the high alias can fetch it. */
  uint32_t code = (uint32_t)hh_run;
  volatile pte_t* code_pte = pte_get(kernel_pd, code);
  pte_t code_saved = *code_pte;
  *code_pte = 0;
  invlpg(code);
  pf_arm(0);
  hh_fn hh_run_high = (hh_fn)high(code);
  uint32_t ran_at = hh_run_high((volatile uint32_t*)high((uint32_t)&hh_data[2]), 0x600d0001);
  tap_ok(ran_at == high(code) && hh_data[2] == 0x600d0001 && pf_count() == 0,
         "jumps to 0x%08x and runs there with its low page unmapped, pushing and popping through "
         "the stack's high alias (ran at 0x%08x)",
         high(code), ran_at);

  /* The low alias of that code: the fetch faults (no I/D bit in 32-bit paging: error 0). */
  pf_arm_entry(code_pte, code_saved);
  ran_at = hh_run(&hh_data[3], 0x600d0002);
  tap_ok(pf_expect(code, 0, hh_run, SEL_KERNEL_CODE) && ran_at == code && hh_data[3] == 0x600d0002,
         "a call through the removed low mapping faults: cr2 = EIP = 0x%08x, error 0; remapped "
         "by the handler, it runs",
         code);

  /* Data: the low mapping of hh_data goes, the high one keeps working. */
  uint32_t data = (uint32_t)&hh_data[4];
  volatile pte_t* data_pte = pte_get(kernel_pd, data);
  pte_t data_saved = *data_pte;
  *data_pte = 0;
  invlpg(data);
  pf_arm(0);
  kwrite(high((uint32_t)&hh_data[4]), 0xa11a5000);
  uint32_t back = kread(high((uint32_t)&hh_data[4]));
  tap_ok(back == 0xa11a5000 && pf_count() == 0,
         "with the low mapping of a data page removed, its high alias is still read and written");

  pf_arm_entry(data_pte, data_saved);
  uint32_t got = kread(data);
  tap_ok(pf_expect(data, 0, kread_insn, SEL_KERNEL_CODE) && got == 0xa11a5000,
         "a read through the removed low mapping faults: cr2 0x%08x, error 0 (not present, read, "
         "ring 0); remapped, it reads what the high alias wrote",
         data);

  *data_pte = 0;
  invlpg(data);
  pf_arm_entry(data_pte, data_saved);
  kwrite(data + 4, 0xa11a5001);
  tap_ok(pf_expect(data + 4, PF_W, kwrite_insn, SEL_KERNEL_CODE) &&
             kread(high((uint32_t)&hh_data[5])) == 0xa11a5001,
         "a write through the removed low mapping faults: cr2 0x%08x, error 2 (not present, "
         "write, ring 0); remapped, the write lands",
         data + 4);
  pf_arm(0);
}
