/* ins/outs with and without rep, every width, DF, 16-bit addressing, and the I/O permission
   rule from ring 3, on real devices: COM1 in loopback (rep outsb into THR, rep insb back out of
   RBR through the FIFO), the PICs' IMR, CMOS RAM through a word/dword outs split over the
   index and data ports, and insw/insd compared with inw/inl of the same ports. */
#include <stdint.h>

#include "desc.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "portio.h"
#include "protected_init.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"

enum {
  COM1 = 0x3f8,
  UART_FCR = 2,
  UART_MCR = 4,
  UART_LSR = 5,
  MCR_LOOP = 0x10,
  PIC1_CMD = 0x20,
  PIC1_DATA = 0x21,
  CMOS_INDEX = 0x70,
  CMOS_DATA = 0x71,
  CMOS_SCRATCH = 0x38, /* free NVRAM bytes */
  LOW_BUF = 0x6000,    /* below 64 KiB, for 16-bit addressing (paging is off) */
};

static void rep_outsb(uint16_t port, const void* src, uint32_t n, int backwards) {
  const void* s = src;
  if (backwards) __asm__ volatile("std");
  __asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"(port) : "memory");
  __asm__ volatile("cld");
}
static void rep_insb(uint16_t port, void* dst, uint32_t n) {
  __asm__ volatile("rep insb" : "+D"(dst), "+c"(n) : "d"(port) : "memory");
}

static uint8_t cmos_read(uint8_t index) {
  outb(CMOS_INDEX, index);
  return inb(CMOS_DATA);
}

/* COM1 in loopback: what rep outsb sends comes back through rep insb. */
static void uart_loopback(void) {
  static const char msg[] = "bt86 strio!";
  const uint32_t n = sizeof msg - 1;
  char got[16] = {0}, rev[16] = {0};
  /* Nothing may be printed while the UART loops back. */
  uint8_t mcr = inb(COM1 + UART_MCR);
  outb(COM1 + UART_FCR, 0x07); /* FIFOs on and cleared */
  outb(COM1 + UART_MCR, mcr | MCR_LOOP);
  rep_outsb(COM1, msg, n, 0);
  uint8_t lsr = inb(COM1 + UART_LSR);
  rep_insb(COM1, got, n);
  /* DF = 1: outsb walks the string from its last byte. */
  rep_outsb(COM1, msg + n - 1, n, 1);
  rep_insb(COM1, rev, n);
  uint8_t lsr_after = inb(COM1 + UART_LSR);
  outb(COM1 + UART_MCR, mcr);
  outb(COM1 + UART_FCR, 0x07);
  int same = 1, backwards = 1;
  for (uint32_t i = 0; i < n; i++) {
    same &= got[i] == msg[i];
    backwards &= rev[i] == msg[n - 1 - i];
  }
  tap_ok(same && (lsr & 1), "rep outsb to COM1 in loopback and rep insb back: \"%s\"", got);
  tap_ok(backwards, "std; rep outsb sends the string backwards: \"%s\"", rev);
  tap_ok(!(lsr_after & 1), "the receiver is empty again");
}

static void widths(void) {
  /* OCW3: reads of 0x20 give the ISR (0 here), of 0x21 the IMR. */
  outb(PIC1_CMD, 0x0b);
  uint8_t imr = inb(PIC1_DATA);
  static const uint8_t masks[3] = {0xff, 0xfe, 0xfa};
  const uint8_t* s = masks;
  uint32_t n = 3;
  __asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"(PIC1_DATA) : "memory");
  uint8_t now = inb(PIC1_DATA);
  tap_ok(now == 0xfa && n == 0 && s == masks + 3, "rep outsb to the IMR leaves the last (0x%02x)",
         now);
  outb(PIC1_DATA, imr);

  uint16_t w_in = inw(PIC1_CMD), w_ins = 0;
  uint32_t d_in = inl(PIC1_CMD), d_ins = 0;
  uint16_t* pw = &w_ins;
  uint32_t* pd = &d_ins;
  __asm__ volatile("insw" : "+D"(pw) : "d"(PIC1_CMD) : "memory");
  __asm__ volatile("insl" : "+D"(pd) : "d"(PIC1_CMD) : "memory");
  tap_ok(w_ins == w_in && pw == &w_ins + 1, "insw = inw of port 0x20 (0x%04x)", w_ins);
  tap_ok(d_ins == d_in && pd == &d_ins + 1, "insd = inl of port 0x20 (0x%08x)", d_ins);

  /* A word to 0x70 is the index then the data byte; a dword adds two ports nobody owns. */
  const uint16_t word = CMOS_SCRATCH | 0xa5 << 8;
  const uint32_t dword = (CMOS_SCRATCH + 1) | 0x3c << 8 | 0xffff0000u;
  const uint16_t* ps = &word;
  __asm__ volatile("outsw" : "+S"(ps) : "d"(CMOS_INDEX) : "memory");
  const uint32_t* pl = &dword;
  __asm__ volatile("outsl" : "+S"(pl) : "d"(CMOS_INDEX) : "memory");
  uint8_t a = cmos_read(CMOS_SCRATCH), b = cmos_read(CMOS_SCRATCH + 1);
  tap_ok(a == 0xa5 && b == 0x3c, "outsw/outsd to the CMOS index/data ports wrote NVRAM (%02x %02x)",
         a, b);

  /* 0x67: DI and CX, wrapping at 64 KiB; the upper halves stay. CMOS status D reads 0x80. */
  volatile uint8_t* low = (volatile uint8_t*)LOW_BUF;
  for (int i = 0; i < 5; i++) low[i] = 0;
  outb(CMOS_INDEX, 0x0d);
  uint32_t edi = 0x12340000u | LOW_BUF, ecx = 0x56780004u;
  __asm__ volatile(".byte 0x67; rep insb" : "+D"(edi), "+c"(ecx) : "d"(CMOS_DATA) : "memory");
  tap_ok(low[0] == 0x80 && low[3] == 0x80 && low[4] == 0 && edi == (0x12340000u | (LOW_BUF + 4)) &&
             ecx == 0x56780000u,
         "addr16 rep insb: 4 bytes at DI, EDI %08x ECX %08x", edi, ecx);
}

/* Ring 3. */
static volatile uint32_t gp_error, gp_ecx, gp_seen;
static uint8_t user_buf[4];
static uint8_t user_stack[0x2000] __attribute__((aligned(16)));

static void on_gp(struct trap_frame* f) {
  if (!trap_from_user(f)) {
    kprintf("Bail out! #GP(0x%x) in ring 0 at %08x\n", f->error, f->eip);
    tap_done();
  }
  gp_seen = 1;
  gp_error = f->error;
  gp_ecx = f->ecx;
  user_return(1);
}

static void user_outs(void) {
  static const uint8_t masks[2] = {0xff, 0xff};
  rep_outsb(PIC1_DATA, masks, 2, 0);
  sys_exit(0);
}
static void user_ins(void) {
  rep_insb(PIC1_DATA, user_buf, 4);
  sys_exit(0);
}

static void ring3(void) {
  trap_register(VEC_GP, on_gp);
  uint8_t imr = inb(PIC1_DATA);
  uint32_t r = user_run(user_outs, user_stack + sizeof user_stack, 0);
  tap_ok(r == 1 && gp_seen && gp_error == 0 && gp_ecx == 2 && inb(PIC1_DATA) == imr,
         "ring 3, IOPL 0, no I/O bitmap: rep outsb is #GP(0) before any output (ECX %u)", gp_ecx);
  r = user_run(user_ins, user_stack + sizeof user_stack, EFLAGS_IOPL(3));
  tap_ok(r == 0 && user_buf[0] == imr && user_buf[3] == imr, "ring 3, IOPL 3: rep insb (%02x)",
         user_buf[3]);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  syscall_init();
  tap_plan(10);
  uart_loopback();
  widths();
  ring3();
  tap_done();
}
