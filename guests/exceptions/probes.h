/* Labels around the faulting instructions of probes.S: a fault reports the start, a trap
   the end, and the handler resumes at the end. */
#ifndef BT86_EXCEPTIONS_PROBES_H
#define BT86_EXCEPTIONS_PROBES_H

/* Selectors the ring-3 probes load into DS. */
#define SEL_KERNEL_DATA_RPL0 0x10
#define SEL_BEYOND_GDT 0x83 /* index 16: past the 10-entry GDT */
/* Index 7: a VMM that runs ring 3 directly on an x86-64 Linux host cannot see a load of a
   selector the host GDT accepts (0x23, 0x2b, 0x33, 0x7b) until its first faulting use, so the
   precise #NP check uses one the host refuses. */
#define NOT_PRESENT_INDEX 7
#define SEL_NOT_PRESENT 0x3b
#define VECTOR_DPL0 0x41 /* a present gate user code may not use */
/* What ESI, EDI and EBP hold across the ring-3 probes. */
#define PROBE_ESI 0x5151e5e5
#define PROBE_EDI 0xd1d1e7e7
#define PROBE_EBP 0xb0b0e9e9

#ifndef __ASSEMBLER__
#define PROBE(name) extern const char probe_##name[], probe_##name##_end[]
PROBE(u_de);
PROBE(u_bp);
PROBE(u_of);
PROBE(u_ud);
PROBE(u_cli);
PROBE(u_hlt);
PROBE(u_in);
PROBE(u_out);
PROBE(u_int41);
PROBE(u_ds_kernel);
PROBE(u_ds_limit);
PROBE(u_ds_np);
PROBE(k_de);
PROBE(k_bp);
PROBE(k_ud);
#undef PROBE

/* Ring 3: runs every u_ probe in order, then SYS_EXIT with its DS selector. */
void user_probes(void);
/* Ring 0: the k_ probes. */
void kernel_probes(void);
#endif

#endif
