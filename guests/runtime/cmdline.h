/* The multiboot command line, as guests read their options from it. */
#ifndef BT86_GUEST_CMDLINE_H
#define BT86_GUEST_CMDLINE_H

#include "multiboot.h"

/* Whether the command line holds `word` as a whole space-separated word (after the kernel's
   path, which loaders put first). 0 when the loader passed no command line. */
int cmdline_has_word(const struct multiboot_info* mbi, const char* word);

#endif
