# Memory operands: 0x67 prefix (32-bit addressing), [disp32] re-encoded as SIB (it would be
# RIP-relative in 64-bit mode), fs:/gs: through the host GS base, stack ops through esp.
	.code32
	.text
	mov	0x1234, %eax
	mov	%ebx, (%ecx)
	add	0x10(%esi,%edi,2), %edx
	movl	$5, -4(%ebp)
	incl	0x2000
	mov	%fs:0x10, %eax
	mov	%eax, %gs:(%ebx)
	push	%eax
	push	0x3000
	pop	%ecx
	pusha
	popa
	pushf
	hlt
