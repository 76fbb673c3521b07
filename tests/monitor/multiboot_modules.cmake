# Multiboot as other loaders do it: modules from --initrd, the kernel's path in the command
# line, the loader's structures clear of the kernel, also for a kernel linked at 0x2000.
bt86_add_guest(NAME monitor_modules SOURCES guests/modules.c)

# The same objects linked low (the runtime's script with 0x2000 instead of 1 MiB).
file(READ ${BT86_GUEST_RUNTIME_DIR}/link.ld ld_text)
string(REPLACE ". = 1M;" ". = 0x2000;" ld_text "${ld_text}")
set(low_ld ${CMAKE_CURRENT_BINARY_DIR}/link_low.ld)
file(WRITE ${low_ld} "${ld_text}")
_bt86_guest_runtime_objects(mm_runtime)
get_property(mm_sys GLOBAL PROPERTY BT86_GUEST_SYSTEM_ARCHIVE)
set(mm_obj ${BT86_GUEST_OUTPUT_DIR}/obj/monitor_modules/guests/modules.c.o)
set(low_elf ${G}/monitor_modules_low.elf)
add_custom_command(
  OUTPUT ${low_elf}
  COMMAND ${BT86_GUEST_CC} ${BT86_GUEST_LDFLAGS} -Wl,-T,${low_ld} -o ${low_elf} ${mm_runtime}
          ${mm_obj} ${mm_sys} -lgcc
  DEPENDS ${mm_obj} ${mm_runtime} ${low_ld} guest_monitor_modules
  COMMENT "Linking guest monitor_modules_low.elf (at 0x2000)"
  VERBATIM)
add_custom_target(guest_monitor_modules_low ALL DEPENDS ${low_elf})

set(MM ${CMAKE_CURRENT_BINARY_DIR}/modules)
file(MAKE_DIRECTORY ${MM})
file(WRITE ${MM}/mod_a.txt "MODULE-A\n")
file(WRITE ${MM}/mod_b.txt "MODULE-B\n")
set(check ${CMAKE_COMMAND} -P ${PROJECT_SOURCE_DIR}/tests/guests/check_guest.cmake --)
foreach(elf monitor_modules monitor_modules_low)
  add_test(NAME monitor.multiboot.${elf}
           COMMAND ${check} --status 1 --tap
                   --run ${BT86} run --kernel ${G}/${elf}.elf --append bt86.test=modules
                   --initrd "${MM}/mod_a.txt alpha=1 beta=x,,y,${MM}/mod_b.txt")
  set_tests_properties(monitor.multiboot.${elf} PROPERTIES LABELS "monitor" TIMEOUT 90)
endforeach()
bt86_expect(multiboot_missing_module 2 "cannot open the module" 1
            ${BT86} run --kernel ${G}/hello.elf --initrd "/nonexistent/mod arg")
