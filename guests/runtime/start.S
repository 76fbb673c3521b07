/* Multiboot v1 header and the kernel entry point. The loader enters _start in 32-bit
   protected mode with paging off, EAX = 0x2BADB002 and EBX = the multiboot_info address. */
#include "multiboot.h"

#define HEADER_FLAGS (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)
#define STACK_SIZE 0x10000 /* deep recursion in alu; later guests share it */

/* The linker script puts .multiboot first so the header lands in the first 8 KiB of the file. */
        .section .multiboot, "a"
        .p2align 2
        .long MULTIBOOT_HEADER_MAGIC
        .long HEADER_FLAGS
        .long -(MULTIBOOT_HEADER_MAGIC + HEADER_FLAGS)

        .section .bss
        .p2align 12
        .globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
        .skip STACK_SIZE
boot_stack_top:

        .text
        .globl _start
        .type _start, @function
_start:
        /* EAX and EBX are still needed after rep stosb clobbers EAX, ECX and EDI. */
        movl %eax, %esi
        movl %ebx, %edx
        cld
        movl $__bss_start, %edi
        movl $__bss_end, %ecx
        subl %edi, %ecx
        xorl %eax, %eax
        rep stosb
        movl $boot_stack_top, %esp
        xorl %ebp, %ebp
        pushl %edx
        pushl %esi
        call kmain
        pushl %eax
        call guest_exit
        /* guest_exit does not return. */
        .size _start, . - _start

        .section .note.GNU-stack, "", @progbits
