/* TAP (Test Anything Protocol) output, so guest tests can be checked line by line. */
#ifndef BT86_GUEST_TAP_H
#define BT86_GUEST_TAP_H

void tap_plan(int n); /* prints "1..n" */
/* Prints "ok N - name" or "not ok N - name"; returns cond != 0. */
int tap_ok(int cond, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exits with 0 if every check passed and the plan was met, else with 1. */
void tap_done(void) __attribute__((noreturn));

#endif
