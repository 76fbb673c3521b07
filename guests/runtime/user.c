#include "user.h"

#include "desc.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* The kernel stack pointer inside user_run, after it saved the caller's registers. */
uint32_t user_kernel_esp;

/* user_run pushes ebp, ebx, esi, edi and EFLAGS, so its arguments start at 24(%esp) once the
   return address is counted. A returning entry function lands on user_fell_off, whose hlt
   faults in ring 3 so trap_dispatch can name the mistake. */
__asm__(
    ".text\n"
    ".globl user_run\n"
    ".type user_run, @function\n"
    "user_run:\n\t"
    "pushl %ebp\n\t"
    "pushl %ebx\n\t"
    "pushl %esi\n\t"
    "pushl %edi\n\t"
    "pushfl\n\t"
    "movl %esp, user_kernel_esp\n\t"
    "movl 24(%esp), %eax\n\t" /* entry */
    "movl 28(%esp), %ecx\n\t" /* stack_top */
    "movl 32(%esp), %edx\n\t" /* eflags */
    "orl $2, %edx\n\t"
    "subl $4, %ecx\n\t"
    "movl $user_fell_off, (%ecx)\n\t"
    "movl $" STR(SEL_USER_DATA) ", %ebx\n\t"
    "movl %ebx, %ds\n\t"
    "movl %ebx, %es\n\t"
    "movl %ebx, %fs\n\t"
    "movl %ebx, %gs\n\t"
    "pushl $" STR(SEL_USER_DATA) "\n\t"
    "pushl %ecx\n\t"
    "pushl %edx\n\t"
    "pushl $" STR(SEL_USER_CODE) "\n\t"
    "pushl %eax\n\t"
    /* User code starts with no kernel values in its registers. */
    "xorl %eax, %eax\n\t"
    "xorl %ebx, %ebx\n\t"
    "xorl %ecx, %ecx\n\t"
    "xorl %edx, %edx\n\t"
    "xorl %esi, %esi\n\t"
    "xorl %edi, %edi\n\t"
    "xorl %ebp, %ebp\n\t"
    "iret\n"
    ".size user_run, . - user_run\n"

    ".globl user_return\n"
    ".type user_return, @function\n"
    "user_return:\n\t"
    "movl 4(%esp), %eax\n\t"
    "movl user_kernel_esp, %esp\n\t"
    "movl $" STR(SEL_KERNEL_DATA) ", %ecx\n\t"
    "movl %ecx, %ds\n\t"
    "movl %ecx, %es\n\t"
    "movl %ecx, %fs\n\t"
    "movl %ecx, %gs\n\t"
    "popfl\n\t"
    "popl %edi\n\t"
    "popl %esi\n\t"
    "popl %ebx\n\t"
    "popl %ebp\n\t"
    "ret\n"
    ".size user_return, . - user_return\n"

    ".globl user_fell_off\n"
    "user_fell_off:\n\t"
    "hlt\n\t"
    "jmp user_fell_off\n");
