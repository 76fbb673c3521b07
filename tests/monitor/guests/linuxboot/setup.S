/* The real-mode part of a test bzImage: only the setup header matters (bt86 enters the
   protected-mode code through the 32-bit boot protocol and never runs this code). Built once
   per variant: LOAD_ADDR, RELOCATABLE and REQ_FLAGS (the CPUID.1:EDX bits the kernel's own CPU
   check would require, placed after cpucheck.c's 'forcepae' string as the compiler places
   req_flags[0]). make_bzimage appends the protected-mode code and fills in syssize. */
        .code16
        .text
        .org 0x1f1
        .byte 1                         /* setup_sects: 2 sectors of setup in all */
        .word 0                         /* root_flags */
        .long 0                         /* syssize (make_bzimage) */
        .word 0, 0, 0                   /* ram_size, vid_mode, root_dev */
        .word 0xaa55                    /* boot_flag */
        .byte 0xeb, hdr_end - 0x202     /* jump over the header: its length */
        .ascii "HdrS"
        .word 0x020f                    /* boot protocol 2.15 */
        .long 0                         /* realmode_swtch */
        .word 0                         /* start_sys_seg */
        .word version_string - 0x200    /* kernel_version */
        .byte 0                         /* type_of_loader */
        .byte 0x01                      /* loadflags: LOADED_HIGH */
        .word 0                         /* setup_move_size */
        .long LOAD_ADDR                 /* code32_start */
        .long 0, 0                      /* ramdisk_image, ramdisk_size */
        .long 0                         /* bootsect_kludge */
        .word 0                         /* heap_end_ptr */
        .byte 0, 0                      /* ext_loader_ver, ext_loader_type */
        .long 0                         /* cmd_line_ptr */
        .long 0x7fffffff                /* initrd_addr_max */
        .long 0x200000                  /* kernel_alignment */
        .byte RELOCATABLE               /* relocatable_kernel */
        .byte 21                        /* min_alignment */
        .word 0                         /* xloadflags */
        .long 255                       /* cmdline_size */
        .long 0                         /* hardware_subarch: PC */
        .quad 0                         /* hardware_subarch_data */
        .long 0, 0                      /* payload_offset, payload_length */
        .quad 0                         /* setup_data */
        .quad LOAD_ADDR                 /* pref_address */
        .long 0x100000                  /* init_size: code, data and bss */
        .long 0                         /* handover_offset */
        .long 0                         /* kernel_info_offset */
hdr_end:
version_string:
        .asciz "bt86 linuxboot test kernel"
        .ascii "WARNING: PAE disabled. Use parameter 'forcepae' to enable at your own risk!\n\0"
        .balign 32, 0
        .long REQ_FLAGS
        .org 1024
