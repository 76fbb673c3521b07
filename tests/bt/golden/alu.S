# Integer ALU: copied as IDENT (with inc/dec re-encoded: 0x40-0x4f are REX prefixes in 64-bit).
	.code32
	.text
	mov	$1, %eax
	add	%ebx, %eax
	sub	$0x10, %ecx
	and	$0xff, %edx
	or	%esi, %edi
	xor	%eax, %eax
	inc	%ecx
	dec	%edx
	shl	$3, %eax
	sar	%cl, %ebx
	imul	%ecx, %edx
	neg	%esi
	adc	$0x7f, %al
	setc	%bl
	cmovz	%ecx, %eax
	bswap	%edx
	movzbl	%al, %ecx
	lea	0x8(%ebx,%esi,4), %edi
	cdq
	idivl	%ecx
	hlt
