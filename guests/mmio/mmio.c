/* Physical memory with nothing behind it, as on a PC: reads give all ones, writes vanish. From
   ring 0 and ring 3 (under bt86: translated, and directly executed where the host can), with
   paging off and on; every operand width, moffs moves, read-modify-writes with their flags,
   cmpxchg8b, accesses that cross from RAM into it, and the guest's #PF still coming first.
   Cross-checked under qemu-system-i386, whose PC reads zeros there (QEMU's unassigned memory,
   unlike a PC's empty bus): with `mmio.qemu` on the command line the guest expects that value;
   every check is the same, computed from it. */
#include <stdint.h>

#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "protected_init.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"

enum { CHECKS = 27, USER_STACK_SIZE = 0x4000, EXIT_SETUP = 3 };

/* Far above the RAM the tests run with (128 MiB) and below the PCI devices of a PC. */
#define HOLE 0x20000000u
#define LIN_RAM 0x3ffff000u  /* paging: a RAM page, then ...           */
#define LIN_HOLE 0x40000000u /* ... the hole, user and writable,       */
#define LIN_RO 0x40001000u   /* the hole read-only,                     */
#define LIN_GAP 0x40002000u  /* the hole again, then a not-present page */
#define FORMS 0x10000u       /* probe_forms: three pages of the hole from HOLE + FORMS, */
#define LIN_FORMS 0x40010000u /* ... mapped here with paging, user and writable          */
#define LIN_PTHOLE 0x80000000u /* paging: 4 MiB whose page table is in the hole           */
#define PT_HOLE (HOLE + 0x20000u)

extern const char __kernel_end[];
static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));
static volatile uint32_t ram_page[1024] __attribute__((aligned(4096)));
static volatile uint32_t forms_ram[16];

/* Global: the probes' asm stores the resume address by name. */
volatile uint32_t pf_resume, pf_count, pf_error, pf_cr2;

static void on_pf(struct trap_frame* f) {
  pf_count++;
  pf_error = f->error;
  pf_cr2 = read_cr2();
  f->eip = pf_resume;
}

volatile uint32_t ud_count, ud_eip;
static void on_ud(struct trap_frame* f) {
  ud_count++;
  ud_eip = f->eip;
  f->eip = pf_resume;
}

static uint32_t bus; /* what the empty bus reads: all ones (zeros under QEMU, see above) */
static int qemu;

static int contains(const char* s, const char* w) {
  for (; *s; s++) {
    int i = 0;
    while (w[i] && s[i] == w[i]) i++;
    if (!w[i]) return 1;
  }
  return 0;
}

static uint8_t rd8(uint32_t a) {
  return *(volatile uint8_t*)a;
}
static uint16_t rd16(uint32_t a) {
  return *(volatile uint16_t*)a;
}
static uint32_t rd32(uint32_t a) {
  return *(volatile uint32_t*)a;
}

/* The reads and writes a ring can make, checked in place; returns how many went wrong. */
static uint32_t probe(uint32_t base) {
  uint32_t bad = 0;
  bad += rd8(base + 1) != (uint8_t)bus;
  bad += rd16(base + 2) != (uint16_t)bus;
  bad += rd32(base + 4) != bus;
  *(volatile uint32_t*)(base + 8) = 0x12345678u;
  bad += rd32(base + 8) != bus;
  *(volatile uint8_t*)(base + 12) = 0x5a;
  bad += rd8(base + 12) != (uint8_t)bus;
  return bad;
}

/* The instruction forms whose access is not just one operand (push/pop with a memory operand or
   a stack in the hole, x87 loads and stores and the state images, string instructions,
   ah..bh operands, bt with a register bit offset, xlat): the same bus value, the same vanished
   writes. `hole` is where the hole is seen (a linear address), `ram` a RAM buffer of 64 bytes;
   returns a bit per check that went wrong. Runs in ring 0 and ring 3. */
static uint32_t probe_forms(uint32_t hole, volatile uint32_t* ram) {
  uint32_t bad = 0, v, k = 0;
#define CHECK(cond) (bad |= (uint32_t)(cond) << k++)
  __asm__ volatile("pushl (%1)\n popl %0" : "=r"(v) : "r"(hole + 0x100) : "memory");
  CHECK(v != bus);
  __asm__ volatile("pushl $0x1234\n popl (%0)" ::"r"(hole + 0x104) : "memory");
  CHECK(rd32(hole + 0x104) != bus);
  /* The stack itself in the hole: the push vanishes, the pop reads the bus. */
  __asm__ volatile("movl %%esp, %%edx\n movl %1, %%esp\n pushl $0x1234\n popl %0\n movl %%edx, %%esp"
                   : "=&r"(v)
                   : "r"(hole + 0x200)
                   : "edx", "memory");
  CHECK(v != bus);
  /* x87: a load of the bus (an all-ones single is a quiet NaN, kept by fld/fstp), stores. */
  __asm__ volatile("fninit\n flds (%0)\n fstps (%1)" ::"r"(hole + 0x110), "r"(&ram[0]) : "memory");
  CHECK(ram[0] != bus);
  __asm__ volatile("fildl (%0)\n fistpl (%1)" ::"r"(hole + 0x114), "r"(&ram[1]) : "memory");
  CHECK(ram[1] != bus);
  __asm__ volatile("fld1\n fsts (%0)\n fistl (%1)\n fstpl (%2)" ::"r"(hole + 0x118),
                   "r"(hole + 0x11c), "r"(hole + 0x120)
                   : "memory");
  CHECK(rd32(hole + 0x118) != bus || rd32(hole + 0x11c) != bus || rd32(hole + 0x124) != bus);
  __asm__ volatile("fnstcw (%0)\n fnstsw (%1)\n fnstenv (%2)\n fnsave (%3)" ::"r"(hole + 0x130),
                   "r"(hole + 0x134), "r"(hole + 0x140), "r"(hole + 0xfd0)
                   : "memory");
  CHECK(rd16(hole + 0x130) != (uint16_t)bus || rd32(hole + 0x140) != bus ||
         rd32(hole + 0xfd0) != bus || rd32(hole + 0x1030) != bus);
  __asm__ volatile("fninit");
  /* Strings: from the hole, into it, within it, across pages. */
  ram[2] = ram[3] = 0x5a5a5a5au;
  uint32_t si = hole + 0x300, di = (uint32_t)&ram[2], n = 2;
  __asm__ volatile("cld\n rep movsl" : "+S"(si), "+D"(di), "+c"(n)::"memory");
  CHECK(ram[2] != bus || ram[3] != bus || n != 0 || si != hole + 0x308);
  ram[4] = 0x11111111u;
  si = (uint32_t)&ram[4], di = hole + 0x310, n = 1;
  __asm__ volatile("rep movsl" : "+S"(si), "+D"(di), "+c"(n)::"memory");
  CHECK(rd32(hole + 0x310) != bus);
  si = hole + 0x320, di = hole + 0x330, n = 4;
  __asm__ volatile("rep movsl" : "+S"(si), "+D"(di), "+c"(n)::"memory");
  CHECK(rd32(hole + 0x330) != bus || di != hole + 0x340);
  di = hole + 0xff0, n = 0x408; /* 8 dwords to the end of the first page, then a whole page */
  __asm__ volatile("rep stosl" : "+D"(di), "+c"(n) : "a"(0x22222222u) : "memory");
  CHECK(rd32(hole + 0xff0) != bus || rd32(hole + 0x1ffc) != bus || di != hole + 0x2010);
  si = hole + 0x340;
  __asm__ volatile("lodsl" : "=a"(v), "+S"(si)::"memory");
  CHECK(v != bus || si != hole + 0x344);
  ram[5] = bus;
  ram[6] = bus;
  ram[7] = ~bus;
  si = (uint32_t)&ram[5], di = hole + 0x350, n = 5;
  __asm__ volatile("repe cmpsl" : "+S"(si), "+D"(di), "+c"(n)::"memory", "cc");
  CHECK(n != 2 || si != (uint32_t)&ram[8]); /* the third differs: it stops after it */
  di = hole + 0x360, n = 4;
  __asm__ volatile("repne scasl" : "+D"(di), "+c"(n) : "a"(bus) : "memory", "cc");
  CHECK(n != 3 || di != hole + 0x364);
  /* ah..bh operands, bt with a register offset, xlat. */
  uint32_t ax = 0;
  __asm__ volatile("movb (%1), %%ah" : "+a"(ax) : "r"(hole + 0x370) : "memory");
  CHECK(ax != ((bus & 0xff) << 8));
  __asm__ volatile("movb %%ah, (%1)" ::"a"(0x1200u), "r"(hole + 0x374) : "memory");
  CHECK(rd8(hole + 0x374) != (uint8_t)bus);
  uint32_t c;
  __asm__ volatile("btl %2, (%1)\n setc %b0\n movzbl %b0, %0"
                   : "=q"(c)
                   : "r"(hole + 0x380), "r"(35u)
                   : "cc", "memory");
  CHECK(c != (bus >> 3 & 1));
  v = 0x7;
  __asm__ volatile("xlat" : "+a"(v) : "b"(hole + 0x390) : "memory");
  CHECK((v & 0xff) != (bus & 0xff));
#undef CHECK
  return bad;
}

static void user_main(void) {
  sys_exit(probe(HOLE));
}

static void user_forms(void) {
  sys_exit(probe_forms(HOLE + FORMS, forms_ram));
}

static void user_paged_forms(void) {
  sys_exit(probe_forms(LIN_FORMS, forms_ram));
}

static void user_paged(void) {
  sys_exit(probe(LIN_HOLE));
}

static void check_ring0_forms(void) {
  tap_ok(probe(HOLE) == 0, "ring 0: bytes, words and dwords read the bus; writes vanish");
  uint32_t moffs;
  __asm__ volatile("movl 0x20000010, %0" : "=a"(moffs));
  tap_ok(moffs == bus, "mov eax, [moffs32] reads the empty bus (0x%08x)", moffs);
  __asm__ volatile("movl %0, 0x20000010" ::"a"(0x5a5a5a5au) : "memory");
  tap_ok(rd32(HOLE + 0x10) == bus, "mov [moffs32], eax vanishes");
  int32_t sx;
  uint32_t zx;
  __asm__ volatile("movswl 0x20000020, %0\n movzwl 0x20000022, %1" : "=r"(sx), "=r"(zx));
  tap_ok(sx == (int16_t)bus && zx == (uint16_t)bus, "movsx and movzx of a word (%d, 0x%x)", sx, zx);
  uint8_t zf, cf;
  __asm__ volatile("addl $1, 0x20000030\n setz %0\n setc %1" : "=q"(zf), "=q"(cf)::"cc", "memory");
  tap_ok(zf == (bus + 1 == 0) && cf == (bus + 1 == 0),
         "add [hole], 1: flags of bus + 1 (zf %u cf %u)", zf, cf);
  uint32_t old = 5;
  __asm__ volatile("xchgl %0, 0x20000034" : "+r"(old)::"memory");
  tap_ok(old == bus && rd32(HOLE + 0x34) == bus, "xchg reads the bus, the write vanishes (0x%08x)",
         old);
  uint32_t lo = bus, hi = bus;
  __asm__ volatile("cmpxchg8b 0x20000040\n setz %2"
                   : "+a"(lo), "+d"(hi), "=q"(zf)
                   : "b"(1u), "c"(2u)
                   : "cc", "memory");
  tap_ok(zf && rd32(HOLE + 0x40) == bus, "cmpxchg8b compares equal with the bus (zf %u)", zf);
  uint32_t cnt;
  __asm__ volatile("xorl %0, %0\n btl $31, 0x20000050\n adcl $0, %0" : "=r"(cnt)::"cc");
  tap_ok(cnt == bus >> 31, "bt [hole], 31 finds bit 31 of the bus (%u)", cnt);
}

/* Code in the hole, paging off: the CPU fetches ff ff, an undefined opcode (#UD at its first
   byte). QEMU's zeros are `add [eax], al` and would run on: there it is not tried. */
static void check_fetch(void) {
  if (qemu) {
    tap_ok(1, "code in the hole # SKIP QEMU's empty bus reads zeros, which run");
    return;
  }
  ud_count = 0;
  __asm__ volatile("movl $1f, pf_resume\n jmp *%0\n 1:" ::"r"(HOLE + 0x40) : "memory");
  tap_ok(ud_count == 1 && ud_eip == HOLE + 0x40, "code in the hole: ff ff is #UD (%u at 0x%08x)",
         ud_count, ud_eip);
}

static volatile pte_t* setup_paging(void) {
  volatile pte_t* pd = pd_create();
  /* Everything ring 3 runs and touches is in the identity map: make it all user pages. */
  map_range(pd, PAGE_SIZE, PAGE_SIZE, LARGE_PAGE_SIZE - PAGE_SIZE, PTE_RW | PTE_US);
  map_page(pd, LIN_RAM, (uint32_t)ram_page, PTE_RW | PTE_US);
  map_page(pd, LIN_HOLE, HOLE, PTE_RW | PTE_US);
  map_page(pd, LIN_RO, HOLE + 0x1000, PTE_US);
  map_page(pd, LIN_GAP, HOLE + 0x2000, PTE_RW | PTE_US);
  map_range(pd, LIN_FORMS, HOLE + FORMS, 3 * PAGE_SIZE, PTE_RW | PTE_US);
  *pde_get(pd, LIN_PTHOLE) = PT_HOLE | PTE_P | PTE_RW | PTE_US;
  paging_enable(pd, 0);
  return pd;
}

/* A page table in the hole: the walk reads its entries from the bus. All ones is a present,
   writable user entry for frame 0xfffff000 (the hole again: reads the bus, writes vanish, and
   code there is ff ff, an undefined opcode: #UD); zeros (QEMU) are a not-present entry: #PF. */
static void check_table_in_hole(void) {
  const uint32_t at = LIN_PTHOLE + 0x10;
  pf_count = 0;
  uint32_t v = 0x55;
  __asm__ volatile("movl $1f, pf_resume\n movl (%1), %0\n 1:" : "+r"(v) : "r"(at) : "memory");
  if (bus)
    tap_ok(pf_count == 0 && v == bus, "a page table in the hole: the entry reads all ones, the "
           "page is the hole (0x%08x, %u faults)", v, pf_count);
  else
    tap_ok(pf_count == 1 && pf_error == 0 && pf_cr2 == at && v == 0x55,
           "a page table in the hole: a zero entry, #PF (error %u cr2 0x%08x)", pf_error, pf_cr2);
  pf_count = 0;
  __asm__ volatile("movl $1f, pf_resume\n movl $7, (%0)\n 1:" ::"r"(at) : "memory");
  tap_ok(bus ? pf_count == 0 && rd32(at) == bus : pf_count == 1 && pf_error == PF_W,
         "a write through it: %s (%u faults, error %u)", bus ? "vanishes" : "#PF", pf_count,
         pf_error);
  pf_count = ud_count = 0;
  __asm__ volatile("movl $1f, pf_resume\n jmp *%0\n 1:" ::"r"(at + 0x10) : "memory");
  tap_ok(bus ? ud_count == 1 && pf_count == 0 && ud_eip == at + 0x10
             : pf_count == 1 && pf_cr2 == at + 0x10 && ud_count == 0,
         "code there: %s (#UD %u at 0x%08x, #PF %u)", bus ? "ff ff is #UD" : "#PF", ud_count,
         ud_eip, pf_count);
}

static void check_paged(void) {
  tap_ok(probe(LIN_HOLE) == 0, "paging on, ring 0: the bus value, writes vanish");
  ram_page[1023] = 0x11223344u;
  uint32_t cross = rd32(LIN_RAM + 0xffe);
  tap_ok(cross == ((bus << 16) | 0x1122u),
         "a dword from RAM into the hole: RAM half, then the bus (0x%08x)", cross);
  *(volatile uint32_t*)(LIN_RAM + 0xffe) = 0xaabbccddu;
  tap_ok(ram_page[1023] == 0xccdd3344u, "a dword written across: the RAM half lands (0x%08x)",
         ram_page[1023]);
  tap_ok(rd32(LIN_RO) == bus, "a read-only mapping of the hole reads the bus");

  pf_count = 0;
  __asm__ volatile("movl $1f, pf_resume\n movl $7, (%0)\n 1:" ::"r"(LIN_RO) : "memory");
  tap_ok(pf_count == 1 && pf_error == (PF_P | PF_W) && pf_cr2 == LIN_RO,
         "a write to it faults first: #PF error %u cr2 0x%08x (%u faults)", pf_error, pf_cr2,
         pf_count);
  pf_count = 0;
  uint32_t v = 0x55;
  __asm__ volatile("movl $1f, pf_resume\n movl (%1), %0\n 1:"
                   : "+r"(v)
                   : "r"(LIN_GAP + 0xffe)
                   : "memory");
  tap_ok(pf_count == 1 && pf_error == 0 && pf_cr2 == LIN_GAP + 0x1000 && v == 0x55,
         "a read from the hole into a missing page: #PF on the second page, nothing loaded "
         "(error %u cr2 0x%08x)",
         pf_error, pf_cr2);
  pf_count = 0;
  ram_page[1023] = 0x11223344u;
  __asm__ volatile("movl $1f, pf_resume\n addl $1, (%0)\n 1:" ::"r"(LIN_HOLE - 2) : "memory", "cc");
  const uint32_t sum = ((bus << 16) | 0x1122u) + 1;
  tap_ok(pf_count == 0 && ram_page[1023] == ((sum << 16) | 0x3344u),
         "add across RAM into the hole: the RAM half of 0x%08x written (0x%08x)", sum,
         ram_page[1023]);

  uint32_t r = user_run(user_paged, user_stack + sizeof user_stack, EFLAGS_IF);
  tap_ok(r == 0, "paging on, ring 3: the bus value, writes vanish (%u wrong)", r);
  r = probe_forms(LIN_FORMS, forms_ram);
  tap_ok(r == 0, "paging on, ring 0: push/pop, x87, strings, ah, bt, xlat (failed: 0x%x)", r);
  r = user_run(user_paged_forms, user_stack + sizeof user_stack, EFLAGS_IF);
  tap_ok(r == 0, "paging on, ring 3: push/pop, x87, strings, ah, bt, xlat (failed: 0x%x)", r);
  check_table_in_hole();
  pf_count = 0;
  uint32_t ro = user_run(user_main, user_stack + sizeof user_stack, EFLAGS_IF);
  /* HOLE itself is not mapped: the user program's first read is a #PF, which ends it here. */
  tap_ok(ro == 0xdead && pf_count == 1 && pf_error == PF_U && pf_cr2 == HOLE + 1,
         "ring 3, unmapped linear address of the hole: #PF error %u cr2 0x%08x", pf_error, pf_cr2);
}

static void on_user_pf(struct trap_frame* f) {
  if (!trap_from_user(f)) return on_pf(f);
  pf_count++;
  pf_error = f->error;
  pf_cr2 = read_cr2();
  user_return(0xdead);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  protected_init();
  syscall_init();
  trap_register(VEC_PF, on_user_pf);
  tap_plan(CHECKS);
  uint32_t ram_end = 0x100000u + mbi->mem_upper * 1024u;
  if (!(mbi->flags & MULTIBOOT_INFO_MEMORY) || ram_end > HOLE ||
      (uint32_t)__kernel_end > 0x400000u) {
    kprintf("Bail out! RAM ends at 0x%08x, kernel at 0x%08x: the hole must be above both\n",
            ram_end, (uint32_t)__kernel_end);
    guest_exit(EXIT_SETUP);
  }
  qemu = (mbi->flags & MULTIBOOT_INFO_CMDLINE) && contains((const char*)mbi->cmdline, "mmio.qemu");
  bus = qemu ? 0 : 0xffffffffu;
  if ((mbi->flags & MULTIBOOT_INFO_CMDLINE) && contains((const char*)mbi->cmdline, "mmio.cr3hole")) {
    /* The page directory in the hole: every entry reads all ones, so the next fetch is ff ff
       at 0xfffffxxx (#UD), and so is the IDT: a triple fault (the VMM's report must say why). */
    write_cr3(HOLE);
    write_cr0(read_cr0() | CR0_PG);
    return 2;
  }
  uint32_t seen = rd32(HOLE);
  tap_ok(seen == bus, "the empty bus at 0x%08x reads 0x%08x (RAM ends at 0x%08x)", HOLE, seen,
         ram_end);
  check_ring0_forms();
  uint32_t r = user_run(user_main, user_stack + sizeof user_stack, EFLAGS_IF);
  tap_ok(r == 0, "ring 3: the bus value, writes vanish (%u wrong)", r);
  r = probe_forms(HOLE + FORMS, forms_ram);
  tap_ok(r == 0, "ring 0: push/pop, x87, strings, ah, bt, xlat (failed: 0x%x)", r);
  r = user_run(user_forms, user_stack + sizeof user_stack, EFLAGS_IF);
  tap_ok(r == 0, "ring 3: push/pop, x87, strings, ah, bt, xlat (failed: 0x%x)", r);
  trap_register(VEC_UD, on_ud);
  check_fetch();
  setup_paging();
  check_paged();
  tap_done();
}
