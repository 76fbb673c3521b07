# Control flow: direct jumps and jcc become chain sites with exit stubs; loop/jecxz; call
# pushes the return address and chains; ret and indirect jumps go to the jump cache (lookup).
	.code32
	.text
start:
	cmp	$10, %eax
	jz	equal
	jl	start
	jmp	after
equal:
	call	func
	loop	equal
	jecxz	after
after:
	jmp	*%ebx
func:
	ret	$4
