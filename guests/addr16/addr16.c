/* 16-bit addressing (the 0x67 prefix) in 32-bit ring-0 code: every ModRM combination through
   DS (flat) and through FS (a segment with a base), each wrapping at 64 KiB; ALU
   read-modify-write and flags, setcc, ah..bh operands, bts/bt with a register bit offset that
   moves the address across the wrap, moffs moves, xlat, push/pop [m], call/jmp [m], x87 loads
   and stores, mov [m], sreg, lfs, sgdt, and the string instructions (rep movs both ways and
   across the wrap, repe cmps, repne scas, rep stos, lods, rep with CX = 0) with SI/DI/CX
   wrapping and their upper halves kept. The instructions are generated into a code buffer and
   run with chosen registers (run_code.S). DS offsets stay in [0x1000, 0x10000): page 0 is
   avoided, since bt86 reaches it by another path when the host cannot map it. */
#include <stdint.h>

#include "desc.h"
#include "kprintf.h"
#include "multiboot.h"
#include "protected_init.h"
#include "tap.h"

struct regs {
  uint32_t eax, ecx, edx, ebx, eflags, ebp, esi, edi;
};
void run_code(struct regs* r, const void* code);

#define FL_CF 0x1u
#define FL_ZF 0x40u
#define FS_INDEX GDT_SPARE_FIRST
#define SEL_FS GDT_SELECTOR(FS_INDEX, 0)

static uint8_t code[4096] __attribute__((aligned(4096)));
static unsigned code_len;
static uint8_t fsbuf[0x10010] __attribute__((aligned(16)));

static void emit(const uint8_t* p, unsigned n) {
  for (unsigned i = 0; i < n; i++) code[code_len++] = p[i];
}
#define E(...) emit((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))
static void emit32(uint32_t v) {
  E(v, v >> 8, v >> 16, v >> 24);
}
static void run(struct regs* r) {
  code[code_len++] = 0xC3; /* ret */
  run_code(r, code);
  code_len = 0;
}

/* Low memory (paging is off): DS offsets are linear addresses. */
static volatile uint8_t* low8(uint32_t a) {
  return (volatile uint8_t*)a;
}
static volatile uint16_t* low16(uint32_t a) {
  return (volatile uint16_t*)a;
}
static volatile uint32_t* low32(uint32_t a) {
  return (volatile uint32_t*)a;
}
static volatile uint32_t* fs32(uint32_t a) {
  return (volatile uint32_t*)(fsbuf + a);
}

/* Registers with other bits in their upper halves; every sum below passes 64 KiB somewhere. */
static const uint32_t kEbx = 0xAAAAFFF0, kEbp = 0x55559000, kEsi = 0x33331130, kEdi = 0x77772011;
static void base_regs(struct regs* r) {
  *r = (struct regs){0, 0x11110000, 0x22220000, kEbx, 0, kEbp, kEsi, kEdi};
}

/* The SDM's 16-bit ModRM table (Vol. 2, table 2-1). */
static uint16_t ea16(unsigned mod, unsigned rm, int32_t disp) {
  const uint16_t bx = (uint16_t)kEbx, bp = (uint16_t)kEbp, si = (uint16_t)kEsi, di = (uint16_t)kEdi;
  static const int base[8] = {0, 0, 1, 1, -1, -1, 1, 0};  /* 0 bx, 1 bp */
  static const int index[8] = {0, 1, 0, 1, 0, 1, -1, -1}; /* 0 si, 1 di */
  if (mod == 0 && rm == 6) return (uint16_t)disp;
  uint32_t ea = (uint32_t)disp;
  if (base[rm] == 0) ea += bx;
  if (base[rm] == 1) ea += bp;
  if (index[rm] == 0) ea += si;
  if (index[rm] == 1) ea += di;
  return (uint16_t)ea;
}

static void modrm_forms(int use_fs) {
  for (unsigned mod = 0; mod < 3; mod++) {
    int bad_rm = -1;
    uint16_t bad_ea = 0;
    for (unsigned rm = 0; rm < 8; rm++) {
      const int32_t disp = mod == 1 ? -0x40 : (mod == 2 || rm == 6) ? 0x8123 : 0;
      const uint16_t ea = ea16(mod, rm, disp);
      volatile uint32_t* at = use_fs ? fs32(ea) : low32(ea);
      const uint32_t marker = 0xC0DE0000u | use_fs << 12 | mod << 8 | rm;
      *at = marker;
      int ok = 1;
      for (unsigned store = 0; store < 2; store++) {
        struct regs r;
        base_regs(&r);
        r.ecx = ~marker;
        if (use_fs) E(0x64);
        /* mov eax, [m] / mov [m], ecx */
        E(0x67, store ? 0x89 : 0x8B, (uint8_t)(mod << 6 | store << 3 | rm));
        if (mod == 1) E((uint8_t)disp);
        if (mod == 2 || (mod == 0 && rm == 6)) E((uint8_t)disp, (uint8_t)(disp >> 8));
        run(&r);
        ok &= store ? *at == ~marker : r.eax == marker;
      }
      if (!ok && bad_rm < 0) {
        bad_rm = (int)rm;
        bad_ea = ea;
      }
    }
    tap_ok(bad_rm < 0,
           "%s: mod %u, every rm: load and store at the 16-bit offset (bad: rm %d at %04x)",
           use_fs ? "fs" : "ds", mod, bad_rm, bad_ea);
  }
}

static void alu_and_high_bytes(void) {
  struct regs r;
  base_regs(&r); /* bx + si = 0x1120, di = 0x2011 */
  *low32(0x1120) = 0xFFFFFFFF;
  *low8(0x2011) = 0x55;
  /* add dword [bx+si], 1; setc byte [di]; movzx ecx, byte [di] */
  E(0x67, 0x83, 0x00, 0x01, 0x67, 0x0F, 0x92, 0x05, 0x67, 0x0F, 0xB6, 0x0D);
  run(&r);
  tap_ok(*low32(0x1120) == 0 && r.ecx == 1 && (r.eflags & FL_ZF),
         "add [bx+si], 1 carries out (ZF set), setc [di] and movzx from [di]: ecx %x", r.ecx);

  base_regs(&r);
  r.eax = 0x12340000;
  r.ecx = 0x00000700; /* ch = 7 */
  *low8(0xFFF0) = 0x9A;
  *low8(0x1130) = 0x10;
  /* mov ah, [bx]; add [si], ch */
  E(0x67, 0x8A, 0x27, 0x67, 0x00, 0x2C);
  run(&r);
  tap_ok(r.eax == 0x12349A00 && *low8(0x1130) == 0x17, "mov ah, [bx]; add [si], ch: eax %08x",
         r.eax);
}

static void bit_offsets(void) {
  struct regs r;
  base_regs(&r);
  r.ebx = 0xAAAA0002;
  r.eax = 0xFFFFFFFF; /* bit -1: bit 31 of the dword at bx - 4 = 0xFFFE */
  r.edx = 0x00000011; /* dx = 17: bit 1 of the word at bx + 2 = 0x0004 ... through FS */
  *low32(0xFFFE) = 0;
  *(volatile uint16_t*)(fsbuf + 4) = 2;
  /* bts dword [bx], eax; setc cl; bt word fs:[bx], dx; setc ch */
  E(0x67, 0x0F, 0xAB, 0x07, 0x0F, 0x92, 0xC1, 0x66, 0x64, 0x67, 0x0F, 0xA3, 0x17, 0x0F, 0x92, 0xC5);
  run(&r);
  tap_ok(*low32(0xFFFE) == 0x80000000u && (r.ecx & 0xffff) == 0x0100,
         "bts [bx], eax = -1 sets bit 31 at 0xFFFE, bt fs:[bx], dx = 17 reads the next word: "
         "[0xFFFE] %08x cx %04x",
         *low32(0xFFFE), r.ecx & 0xffff);
}

static void moffs_and_xlat(void) {
  struct regs r;
  base_regs(&r);
  *low32(0x1234) = 0xDEADBEEF;
  /* mov eax, [0x1234]; mov [0xF000], eax */
  E(0x67, 0xA1, 0x34, 0x12, 0x67, 0xA3, 0x00, 0xF0);
  run(&r);
  tap_ok(r.eax == 0xDEADBEEF && *low32(0xF000) == 0xDEADBEEF, "moffs16 loads and stores");

  base_regs(&r);
  r.ebx = 0x9999FFFF;
  r.eax = 0x00000002;
  r.edx = 0x00003000;
  fsbuf[1] = 0x5A;
  *low8(0x3005) = 0xA5;
  /* xlat fs: (bx + al = 0x0001); mov cl, al; mov ebx, edx; mov al, 5; xlat (0x3005) */
  E(0x64, 0x67, 0xD7, 0x88, 0xC1, 0x89, 0xD3, 0xB0, 0x05, 0x67, 0xD7);
  run(&r);
  tap_ok((r.ecx & 0xff) == 0x5A && (r.eax & 0xff) == 0xA5,
         "xlat: fs:[bx + al] wraps to 0x0001, [bx + al] = 0x3005: %02x %02x", r.ecx & 0xff,
         r.eax & 0xff);
}

static void stack_and_branches(void) {
  struct regs r;
  base_regs(&r);
  *low32(0xFFF0) = 0x01020304;
  /* push dword [bx]; pop dword [di]; push word [bx]; pop word [si] */
  E(0x67, 0xFF, 0x37, 0x67, 0x8F, 0x05, 0x66, 0x67, 0xFF, 0x37, 0x66, 0x67, 0x8F, 0x04);
  run(&r);
  tap_ok(*low32(0x2011) == 0x01020304 && *low16(0x1130) == 0x0304,
         "push [bx]; pop [di]; push word [bx]; pop word [si]");

  base_regs(&r);
  /* call [bp+si] (0xA130) to `mov ecx, 0x600DF00D; ret`, then jmp [bx] to
     `mov edx, 0xD00DF00D; ret` (which returns from the code) */
  E(0x67, 0xFF, 0x12, 0x67, 0xFF, 0x27);
  const uint32_t target1 = (uint32_t)code + code_len;
  E(0xB9);
  emit32(0x600DF00D);
  E(0xC3);
  const uint32_t target2 = (uint32_t)code + code_len;
  E(0xBA);
  emit32(0xD00DF00D);
  *low32(0xA130) = target1;
  *low32(0xFFF0) = target2;
  run(&r);
  tap_ok(r.ecx == 0x600DF00D && r.edx == 0xD00DF00D, "call [bp+si] and jmp [bx]");
}

static void x87(void) {
  struct regs r;
  base_regs(&r);
  *low32(0xFFF0) = 0x40200000; /* 2.5f at [bx] */
  *low32(0x1120) = 0;          /* 1.25 at [bx+si] */
  *low32(0x1124) = 0x3FF40000;
  *low32(0x2011) = 0;
  /* fninit; fld dword [bx]; fadd qword [bx+si]; fistp dword [di]; fnstcw [bp+si] */
  E(0xDB, 0xE3, 0x67, 0xD9, 0x07, 0x67, 0xDC, 0x00, 0x67, 0xDB, 0x1D, 0x67, 0xD9, 0x3A);
  run(&r);
  tap_ok(*low32(0x2011) == 4 && *low16(0xA130) == 0x037F,
         "x87: fld [bx] + fadd [bx+si] = 3.75, fistp [di] = %u, fnstcw [bp+si] = %04x",
         *low32(0x2011), *low16(0xA130));
}

static void strings(void) {
  struct regs r;
  base_regs(&r);
  for (int i = 0; i < 8; i++) fsbuf[(0xFFFC + i) & 0xFFFF] = (uint8_t)(0x41 + i);
  r.esi = 0x1111FFFC;
  r.edi = 0x22223000;
  r.ecx = 0x33330008;
  E(0xF3, 0x64, 0x67, 0xA4); /* rep movsb fs: */
  run(&r);
  int same = 1;
  for (int i = 0; i < 8; i++) same &= *low8(0x3000 + i) == 0x41 + i;
  tap_ok(same && r.esi == 0x11110004 && r.edi == 0x22223008 && r.ecx == 0x33330000,
         "rep movsb fs:si (from 0xFFFC, across the wrap): ESI %08x EDI %08x ECX %08x", r.esi, r.edi,
         r.ecx);

  base_regs(&r);
  for (int i = 0; i < 8; i++) *low8(0x4000 + i) = (uint8_t)(0x61 + i);
  r.esi = 0x11114006;
  r.edi = 0x22225006;
  r.ecx = 0x33330004;
  E(0xFD, 0xF3, 0x67, 0x66, 0xA5, 0xFC); /* std; rep movsw; cld */
  run(&r);
  same = 1;
  for (int i = 0; i < 8; i++) same &= *low8(0x5000 + i) == 0x61 + i;
  tap_ok(same && r.esi == 0x11113FFE && r.edi == 0x22224FFE && r.ecx == 0x33330000,
         "std; rep movsw walks down: ESI %08x EDI %08x", r.esi, r.edi);

  base_regs(&r);
  static const char other[] = "abcXefgh";
  for (int i = 0; i < 8; i++) *low8(0x5100 + i) = (uint8_t)other[i];
  r.esi = 0x11114000;
  r.edi = 0x22225100;
  r.ecx = 0x33330008;
  E(0xF3, 0x67, 0xA6); /* repe cmpsb */
  run(&r);
  tap_ok(r.ecx == 0x33330004 && r.esi == 0x11114004 && r.edi == 0x22225104 && !(r.eflags & FL_ZF) &&
             !(r.eflags & FL_CF),
         "repe cmpsb stops after the first difference ('d' > 'X'): ECX %08x ESI %08x", r.ecx,
         r.esi);

  base_regs(&r);
  r.eax = 0x99999900 | 'e';
  r.edi = 0x22225100;
  r.ecx = 0x33330008;
  E(0xF2, 0x67, 0xAE); /* repne scasb */
  run(&r);
  tap_ok(r.ecx == 0x33330003 && r.edi == 0x22225105 && (r.eflags & FL_ZF),
         "repne scasb finds 'e': ECX %08x EDI %08x", r.ecx, r.edi);

  base_regs(&r);
  r.eax = 0x1234BEEF;
  r.edi = 0x2222FFFA;
  r.ecx = 0x33330003;
  *low16(0xFFFA) = *low16(0xFFFC) = *low16(0xFFFE) = 0;
  E(0xF3, 0x67, 0x66, 0xAB); /* rep stosw up to 0xFFFF; DI wraps to 0 without storing there */
  run(&r);
  tap_ok(*low16(0xFFFA) == 0xBEEF && *low16(0xFFFC) == 0xBEEF && *low16(0xFFFE) == 0xBEEF &&
             r.edi == 0x22220000 && r.ecx == 0x33330000,
         "rep stosw to the top of the 64 KiB: EDI %08x", r.edi);

  base_regs(&r);
  fsbuf[0xFFFF] = 0x7E;
  r.esi = 0x4444FFFF;
  r.eax = 0;
  E(0x64, 0x67, 0xAC); /* lodsb fs: */
  run(&r);
  tap_ok(r.eax == 0x7E && r.esi == 0x44440000, "lodsb fs: from 0xFFFF: ESI %08x", r.esi);

  base_regs(&r);
  r.edi = 0x22226000;
  r.ecx = 0x55550000;
  *low8(0x6000) = 0x11;
  E(0xF3, 0x67, 0xAA); /* rep stosb with CX = 0 (ECX is not 0) */
  run(&r);
  tap_ok(*low8(0x6000) == 0x11 && r.edi == 0x22226000 && r.ecx == 0x55550000,
         "rep stosb with CX = 0 stores nothing");
}

static void segments_and_tables(void) {
  struct regs r;
  base_regs(&r);
  *low16(0xFFF0) = 0;
  /* mov [bx], ds */
  E(0x67, 0x8C, 0x1F);
  run(&r);
  tap_ok(*low16(0xFFF0) == read_ds(), "mov [bx], ds: %04x", *low16(0xFFF0));

  base_regs(&r);
  *low32(0xFFF0) = 0x12345678;
  *low16(0xFFF4) = SEL_FS;
  /* lfs eax, [bx]; mov ecx, fs */
  E(0x67, 0x0F, 0xB4, 0x07, 0x8C, 0xE1);
  run(&r);
  tap_ok(r.eax == 0x12345678 && (r.ecx & 0xffff) == SEL_FS, "lfs eax, [bx]: %08x:%04x", r.eax,
         r.ecx & 0xffff);

  struct __attribute__((packed)) {
    uint16_t limit;
    uint32_t base;
  } gdtr;
  __asm__ volatile("sgdt %0" : "=m"(gdtr));
  base_regs(&r);             /* bx + si = 0x1120 */
  E(0x67, 0x0F, 0x01, 0x00); /* sgdt [bx+si] */
  run(&r);
  tap_ok(*low16(0x1120) == gdtr.limit && *low32(0x1122) == gdtr.base, "sgdt [bx+si]");
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  gdt_set(FS_INDEX, (uint32_t)fsbuf, 0xFFFFF, DESC_PRESENT | DESC_CODE_DATA | DESC_RW,
          DESC_GRAN_4K | DESC_32BIT);
  __asm__ volatile("movw %w0, %%fs" : : "r"((uint16_t)SEL_FS));
  tap_plan(24);
  modrm_forms(0);
  modrm_forms(1);
  alu_and_high_bytes();
  bit_offsets();
  moffs_and_xlat();
  stack_and_branches();
  x87();
  strings();
  segments_and_tables();
  tap_done();
}
