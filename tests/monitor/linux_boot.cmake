# The Linux boot protocol: a test kernel in bzImage form (guests/linuxboot), built in variants,
# checks what bt86's loader hands it and powers off through ACPI; bad bzImages made from it
# must each be refused with one clear line (exit 2). Included from CMakeLists.txt.
find_program(BT86_OBJCOPY NAMES objcopy REQUIRED)
add_executable(make_bzimage make_bzimage.cpp)

set(LB ${CMAKE_CURRENT_BINARY_DIR}/linuxboot)
file(MAKE_DIRECTORY ${LB})
set(lb_src ${CMAKE_CURRENT_SOURCE_DIR}/guests/linuxboot)
set(rt ${BT86_GUEST_RUNTIME_DIR})
bt86_guest_objects(linuxboot OUT lb_objects
  SOURCES ${lb_src}/entry.S ${lb_src}/linuxboot.c ${rt}/serial.c ${rt}/kprintf.c ${rt}/tap.c
          ${rt}/exit.c ${rt}/string.c)

# The protected-mode code linked at one address, as a flat binary.
function(linuxboot_pm load)
  set(ld ${LB}/link_${load}.ld)
  set(LOAD_ADDR ${load})
  configure_file(${lb_src}/link.ld.in ${ld} @ONLY)
  add_custom_command(
    OUTPUT ${LB}/pm_${load}.bin
    COMMAND ${BT86_GUEST_CC} ${BT86_GUEST_LDFLAGS} -Wl,--no-warn-rwx-segments -Wl,-T,${ld} -o ${LB}/pm_${load}.elf
            ${lb_objects} -lgcc
    COMMAND ${BT86_OBJCOPY} -O binary ${LB}/pm_${load}.elf ${LB}/pm_${load}.bin
    DEPENDS ${lb_objects} ${ld}
    COMMENT "Linking linuxboot protected-mode code at ${load}"
    VERBATIM)
endfunction()

# A bzImage variant: setup header for <load> (relocatable or not, required CPU features), the
# code linked there, then patches OFFSET:WIDTH:VALUE.
set(lb_images "")
function(linuxboot_image name load relocatable req_flags)
  set(out ${LB}/${name}.bzImage)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${BT86_GUEST_CC} -m32 -c -DLOAD_ADDR=${load} -DRELOCATABLE=${relocatable}
            -DREQ_FLAGS=${req_flags} ${lb_src}/setup.S -o ${LB}/${name}_setup.o
    COMMAND ${BT86_OBJCOPY} -O binary -j .text ${LB}/${name}_setup.o ${LB}/${name}_setup.bin
    COMMAND make_bzimage ${LB}/${name}_setup.bin ${LB}/pm_${load}.bin ${out} ${ARGN}
    DEPENDS ${lb_src}/setup.S ${LB}/pm_${load}.bin make_bzimage
    COMMENT "Making test bzImage ${name}"
    VERBATIM)
  set(lb_images ${lb_images} ${out} PARENT_SCOPE)
endfunction()

linuxboot_pm(0x100000)
linuxboot_pm(0x400000)
linuxboot_image(fixed 0x100000 0 0)
linuxboot_image(relocatable 0x400000 1 0)
# Bad files.
linuxboot_image(pae 0x100000 0 0x41)                       # requires fpu and pae
linuxboot_image(magic 0x100000 0 0 0x202:4:0x58726448)     # "HdrX"
linuxboot_image(old_protocol 0x100000 0 0 0x206:2:0x0209)
linuxboot_image(kernel64 0x100000 0 0 0x236:2:1)           # XLF_KERNEL_64
linuxboot_image(zimage 0x100000 0 0 0x211:1:0)             # not LOADED_HIGH
linuxboot_image(init_size 0x100000 0 0 0x260:4:0xffffffff)
linuxboot_image(alignment 0x400000 1 0 0x230:4:0x3000)
linuxboot_image(header_end 0x100000 0 0 0x201:1:0x10)
linuxboot_image(load_low 0x100000 0 0 0x214:4:0x1000)      # code32_start below 1 MiB
linuxboot_image(cmdline_size 0x100000 0 0 0x238:4:0)
add_custom_command(OUTPUT ${LB}/truncated.bzImage
                   COMMAND head -c 1500 ${LB}/fixed.bzImage > ${LB}/truncated.bzImage
                   DEPENDS ${LB}/fixed.bzImage)
add_custom_command(OUTPUT ${LB}/big_initrd COMMAND truncate -s 9M ${LB}/big_initrd)

# The initrd the test kernel checks: a first line it knows, then text, ending in a newline.
set(initrd_text "BT86-INITRD\n")
foreach(i RANGE 1 300)
  string(APPEND initrd_text "initrd line ${i}\n")
endforeach()
file(WRITE ${LB}/initrd.txt "${initrd_text}")
string(LENGTH "${initrd_text}" initrd_size)

add_custom_target(linuxboot_images ALL
                  DEPENDS ${lb_images} ${LB}/truncated.bzImage ${LB}/big_initrd)

set(check ${CMAKE_COMMAND} -P ${PROJECT_SOURCE_DIR}/tests/guests/check_guest.cmake --)
foreach(v fixed:0x100000 relocatable:0x400000)
  string(REPLACE ":" ";" v ${v})
  list(GET v 0 name)
  list(GET v 1 load)
  add_test(NAME monitor.linux_boot.${name}
           COMMAND ${check} --status 0 --tap --expect "^# powering off through ACPI"
                   --run ${BT86} run --kernel ${LB}/${name}.bzImage --mem 64M
                   --initrd ${LB}/initrd.txt
                   --append "initrd_size=${initrd_size} mem_mib=64 load=${load}")
  set_tests_properties(monitor.linux_boot.${name} PROPERTIES LABELS "monitor" TIMEOUT 90)
endforeach()

bt86_expect(bzimage_requires_pae 2 "requires CPU features .*pae" 1
            ${BT86} run --kernel ${LB}/pae.bzImage)
bt86_expect(bzimage_wrong_magic 2 "not a Linux bzImage.*not a multiboot kernel" 1
            ${BT86} run --kernel ${LB}/magic.bzImage)
bt86_expect(bzimage_old_protocol 2 "boot protocol 2.09 is too old" 1
            ${BT86} run --kernel ${LB}/old_protocol.bzImage)
bt86_expect(bzimage_64bit 2 "64-bit" 1 ${BT86} run --kernel ${LB}/kernel64.bzImage)
bt86_expect(bzimage_zimage 2 "zImage" 1 ${BT86} run --kernel ${LB}/zimage.bzImage)
bt86_expect(bzimage_init_size 2 "absurd setup header: init_size" 1
            ${BT86} run --kernel ${LB}/init_size.bzImage)
bt86_expect(bzimage_alignment 2 "absurd setup header: kernel_alignment" 1
            ${BT86} run --kernel ${LB}/alignment.bzImage)
bt86_expect(bzimage_header_end 2 "absurd setup header: it ends" 1
            ${BT86} run --kernel ${LB}/header_end.bzImage)
bt86_expect(bzimage_load_low 2 "absurd setup header: .*loaded at 0x1000" 1
            ${BT86} run --kernel ${LB}/load_low.bzImage)
bt86_expect(bzimage_no_cmdline 2 "cmdline_size 0" 1 ${BT86} run --kernel ${LB}/cmdline_size.bzImage)
bt86_expect(bzimage_truncated 2 "truncated bzImage" 1 ${BT86} run --kernel ${LB}/truncated.bzImage)
bt86_expect(bzimage_initrd_too_big 2 "initrd is 9 MiB, larger than guest RAM" 1
            ${BT86} run --kernel ${LB}/fixed.bzImage --mem 8M --initrd ${LB}/big_initrd)
bt86_expect(bzimage_missing_initrd 2 "cannot open the initrd" 1
            ${BT86} run --kernel ${LB}/fixed.bzImage --initrd /nonexistent/initrd)
bt86_expect(bzimage_kernel_too_big 2 "the kernel needs RAM at 0x100000..0x200000" 1
            ${BT86} run --kernel ${LB}/fixed.bzImage --mem 1M)
string(REPEAT "x" 300 long_cmdline)
bt86_expect(bzimage_cmdline_too_long 2 "command line is 300 bytes, the kernel accepts at most 255"
            1 ${BT86} run --kernel ${LB}/fixed.bzImage --append ${long_cmdline})
