# Superblocks (bt86 translate --tc superblocks=on): the first unit goes on through the jmp
# and the call into their targets (the call's push stays, the jumps leave no code) and ends
# at the ret; the jmp back to `spin` inside its own unit is a chain, not a copy of the loop.
	.code32
	.text
start:
	mov	$1, %eax
	jmp	over
back:
	add	$2, %eax
	ret
over:
	call	back
spin:
	inc	%ecx
	jmp	spin
