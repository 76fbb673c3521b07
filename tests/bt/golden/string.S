# String instructions, with and without rep, both operand sizes: IDENT with a 0x67 prefix.
	.code32
	.text
	cld
	rep movsl
	rep stosb
	lodsw
	repne scasb
	repe cmpsl
	std
	movsb
	hlt
