// Everything the monitor needs to build the PC's port-I/O devices.
#pragma once

#include "devices/a20_gate.h"
#include "devices/acpi_pm.h"
#include "devices/char_sink.h"
#include "devices/clock.h"
#include "devices/cmos_rtc.h"
#include "devices/debug_exit.h"
#include "devices/i8042.h"
#include "devices/io_bus.h"
#include "devices/mmio_bus.h"
#include "devices/irq_line.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/post_port.h"
#include "devices/system_port_a.h"
#include "devices/system_port_b.h"
#include "devices/uart16550.h"
