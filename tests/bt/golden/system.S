# System and sensitive instructions: callouts into cpu/ (cpuid, in/out, CR and segment loads,
# popf, lgdt), inline cli/sti at CPL 0, and static exits (int n, ud2).
	.code32
	.text
	cli
	cpuid
	in	$0x60, %al
	out	%al, $0x80
	mov	%cr0, %eax
	mov	%eax, %cr3
	mov	%ax, %ds
	popf
	lgdt	0x5000
	rdtsc
	sti
	nop
	int	$0x80
	ud2
