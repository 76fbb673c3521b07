/* The interrupt windows (windows.S): each probe is called with IF = 0 and an interrupt pending
   and returns with IF = 0. The labels are where the interrupt's frame must return to. */
#ifndef BT86_IRQWIN_WINDOWS_H
#define BT86_IRQWIN_WINDOWS_H

#ifndef __ASSEMBLER__
#include <stdint.h>
/* `sti; cli`, `count` times: the sti shadow covers the cli, so nothing is delivered. */
void win_sti_cli(uint32_t count);
/* sti; nop; [win_sti_nop_after] cli: delivered after the nop. */
void win_sti_nop(void);
extern const char win_sti_nop_after[];
/* sti; jmp [win_sti_jmp_target]: delivered after the jmp, at its target. */
void win_sti_jmp(void);
extern const char win_sti_jmp_target[];
/* sti at the last byte of a page; nop on the next one; [win_page_after] cli. */
void win_page_sti(void);
extern const char win_page_after[];
/* sti; sti; [win_sti_sti_after] nop; cli: the second sti, run with IF = 1, sets no shadow. */
void win_sti_sti(void);
extern const char win_sti_sti_after[];
/* popf setting IF: no shadow, delivered at [win_popf_after] before the nop. */
void win_popf(void);
extern const char win_popf_after[];
/* sti; hlt; [win_sti_hlt_after] cli: hlt wakes on it. */
void win_sti_hlt(void);
extern const char win_sti_hlt_after[];
#endif

#endif
