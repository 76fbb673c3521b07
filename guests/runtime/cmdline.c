#include "cmdline.h"

int cmdline_has_word(const struct multiboot_info* mbi, const char* word) {
  if (!mbi || !(mbi->flags & MULTIBOOT_INFO_CMDLINE) || !mbi->cmdline) return 0;
  for (const char* s = (const char*)mbi->cmdline; *s; ++s) {
    if (s != (const char*)mbi->cmdline && s[-1] != ' ') continue;
    const char *a = s, *b = word;
    while (*a && *b && *a == *b) ++a, ++b;
    if (!*b && (!*a || *a == ' ')) return 1;
  }
  return 0;
}
