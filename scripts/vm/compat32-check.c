// Sanity check run inside the VM before the command: a static 32-bit program (built by
// run-in-vm.sh with gcc -m32 -static) that only runs if the kernel executes compat-mode code.
int main(void) { return 0; }
