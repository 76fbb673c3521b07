/* The native side of the alu shim: a hosted 32-bit Linux program printing with stdio. */
#include <stdint.h>
#include <stdio.h>

#include "alu.h"

void alu_report(const char* name, uint32_t checksum) {
  printf("alu.%s: 0x%08x\n", name, (unsigned)checksum);
}

int main(void) {
  alu_main();
  return 0;
}
