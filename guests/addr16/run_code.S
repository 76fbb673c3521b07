/* void run_code(struct regs* r, const void* code): loads EAX..EDI (not ESP) from r, calls code
   and stores the registers and EFLAGS (in the ESP slot) back into r. */
  .text
  .globl run_code
run_code:
  push %ebp
  push %ebx
  push %esi
  push %edi
  mov 20(%esp), %eax /* r */
  push %eax
  push 28(%esp) /* code: 0(%esp) = code, 4(%esp) = r */
  mov 4(%eax), %ecx
  mov 8(%eax), %edx
  mov 12(%eax), %ebx
  mov 20(%eax), %ebp
  mov 24(%eax), %esi
  mov 28(%eax), %edi
  mov 0(%eax), %eax
  call *(%esp)
  pushf /* 0 = flags, 4 = code, 8 = r */
  xchg %eax, 8(%esp)
  mov %ecx, 4(%eax)
  mov %edx, 8(%eax)
  mov %ebx, 12(%eax)
  mov %ebp, 20(%eax)
  mov %esi, 24(%eax)
  mov %edi, 28(%eax)
  pop %ecx
  mov %ecx, 16(%eax)
  pop %ecx
  pop %ecx
  mov %ecx, 0(%eax)
  cld
  pop %edi
  pop %esi
  pop %ebx
  pop %ebp
  ret
