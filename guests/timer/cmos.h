/* TAP checks of the other legacy timekeeping/controller ports the timer guest covers. */
#ifndef BT86_TIMER_CMOS_H
#define BT86_TIMER_CMOS_H

/* The RTC through ports 0x70/0x71: status registers and a plausible date and time. */
void cmos_checks(void);
/* The keyboard controller's status port 0x64 and its self-test. */
void i8042_checks(void);

#endif
