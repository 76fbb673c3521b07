/* Halt with interrupts off: the VM stops with a report. */
        cli
        hlt
