/* A guest that never ends: the watchdog's SIGTERM must end bt86. */
1:      jmp 1b
