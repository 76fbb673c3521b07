#include "tap.h"

#include <stdarg.h>

#include "exit.h"
#include "kprintf.h"

static int planned = -1;
static int run;
static int failed;

void tap_plan(int n) {
  planned = n;
  kprintf("1..%d\n", n);
}

int tap_ok(int cond, const char* fmt, ...) {
  run++;
  if (!cond) failed++;
  kprintf("%s %d - ", cond ? "ok" : "not ok", run);
  va_list ap;
  va_start(ap, fmt);
  kvprintf(fmt, ap);
  va_end(ap);
  kputc('\n');
  return cond != 0;
}

void tap_done(void) {
  if (planned != run) kprintf("# planned %d checks but ran %d\n", planned, run);
  if (failed) kprintf("# %d of %d checks failed\n", failed, run);
  guest_exit(failed == 0 && planned == run ? 0 : 1);
}
