# Building freestanding 32-bit multiboot guest kernels with the host compiler in 32-bit mode.
# Guests are compiled by custom commands with an explicit flag list so that the project's
# global flags (PIE, sanitizers, C++ options) never leak into them.

# gcc even when the project is configured with another compiler: the flags below are gcc's.
find_program(BT86_GUEST_CC NAMES gcc REQUIRED DOC "gcc used (with -m32) to build guests")
set(BT86_GUEST_OUTPUT_DIR "${CMAKE_BINARY_DIR}/guests")
set(BT86_GUEST_RUNTIME_DIR "${CMAKE_CURRENT_LIST_DIR}/../runtime")
get_filename_component(BT86_GUEST_RUNTIME_DIR "${BT86_GUEST_RUNTIME_DIR}" ABSOLUTE)

# The translator covers the integer instruction set only: no x87, MMX or SSE in guests.
set(BT86_GUEST_CFLAGS
    -m32 -march=i686 -mgeneral-regs-only
    -std=gnu11 -O2 -g
    -ffreestanding -fno-builtin -fno-pie -fno-pic -fno-stack-protector
    -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns
    -Wall -Wextra)
# For code that must also run with --cpu pentium (a P5 has no cmov and no hint nops: endbr32): the runtime, and guests
# that check each model (cpuid, msr).
set(BT86_GUEST_P5_CFLAGS -march=i586 -fcf-protection=none)
set(BT86_GUEST_LDFLAGS
    -m32 -nostdlib -static -no-pie
    -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=0x1000)
set(BT86_GUEST_LINKER_SCRIPT "${BT86_GUEST_RUNTIME_DIR}/link.ld")

# bt86_guest_objects(<set> OUT <var> SOURCES <files...> [INCLUDES <dirs...>] [CFLAGS <flags...>])
# Compiles sources with the guest flags into ${BT86_GUEST_OUTPUT_DIR}/obj/<set>/ and stores the
# object paths in <var>. Objects of one set can be linked into several programs (guest and native).
function(bt86_guest_objects set)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUT" "SOURCES;INCLUDES;CFLAGS")
  if(NOT ARG_OUT OR NOT ARG_SOURCES)
    message(FATAL_ERROR "bt86_guest_objects(${set}): OUT and SOURCES are required")
  endif()
  set(include_flags -I${BT86_GUEST_RUNTIME_DIR})
  foreach(dir IN LISTS ARG_INCLUDES)
    get_filename_component(dir "${dir}" ABSOLUTE)
    list(APPEND include_flags -I${dir})
  endforeach()
  set(objects "")
  foreach(src IN LISTS ARG_SOURCES)
    get_filename_component(src "${src}" ABSOLUTE)
    file(RELATIVE_PATH rel "${CMAKE_CURRENT_SOURCE_DIR}" "${src}")
    string(REPLACE "../" "__/" rel "${rel}")
    set(obj "${BT86_GUEST_OUTPUT_DIR}/obj/${set}/${rel}.o")
    get_filename_component(obj_dir "${obj}" DIRECTORY)
    file(MAKE_DIRECTORY "${obj_dir}")
    add_custom_command(
      OUTPUT "${obj}"
      COMMAND "${BT86_GUEST_CC}" ${BT86_GUEST_CFLAGS} ${ARG_CFLAGS} ${include_flags}
              -MD -MF "${obj}.d" -c "${src}" -o "${obj}"
      DEPENDS "${src}"
      DEPFILE "${obj}.d"
      COMMENT "Compiling guest object ${set}/${rel}"
      VERBATIM)
    list(APPEND objects "${obj}")
  endforeach()
  set(${ARG_OUT} "${objects}" PARENT_SCOPE)
endfunction()

# bt86_add_guest(NAME <name> [SOURCES <files...>] [OBJECTS <objs...>] [INCLUDES <dirs...>]
#                [CFLAGS <flags...>])
# Links <name>.elf (multiboot, loaded at 1 MiB) from the sources, the given objects and the
# runtime, as target guest_<name>, built by default and by the target `guests`.
function(bt86_add_guest)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "NAME" "SOURCES;OBJECTS;INCLUDES;CFLAGS")
  if(NOT ARG_NAME OR (NOT ARG_SOURCES AND NOT ARG_OBJECTS))
    message(FATAL_ERROR "bt86_add_guest: NAME and SOURCES or OBJECTS are required")
  endif()
  set(objects ${ARG_OBJECTS})
  if(ARG_SOURCES)
    bt86_guest_objects(${ARG_NAME} OUT own SOURCES ${ARG_SOURCES} INCLUDES ${ARG_INCLUDES}
                       CFLAGS ${ARG_CFLAGS})
    list(APPEND objects ${own})
  endif()
  _bt86_guest_runtime_objects(runtime)
  get_property(sys_archive GLOBAL PROPERTY BT86_GUEST_SYSTEM_ARCHIVE)
  set(elf "${BT86_GUEST_OUTPUT_DIR}/${ARG_NAME}.elf")
  add_custom_command(
    OUTPUT "${elf}"
    COMMAND "${BT86_GUEST_CC}" ${BT86_GUEST_LDFLAGS} -Wl,-T,${BT86_GUEST_LINKER_SCRIPT}
            -o "${elf}" ${runtime} ${objects} "${sys_archive}" -lgcc
    DEPENDS ${runtime} ${objects} "${sys_archive}" "${BT86_GUEST_LINKER_SCRIPT}"
    COMMENT "Linking guest ${ARG_NAME}.elf"
    VERBATIM)
  add_custom_target(guest_${ARG_NAME} ALL DEPENDS "${elf}")
  # The runtime may have been set up by another directory: order on its target as well.
  add_dependencies(guest_${ARG_NAME} guest_runtime)
  set_target_properties(guest_${ARG_NAME} PROPERTIES BT86_GUEST_FILE "${elf}")
  _bt86_guests_target()
  add_dependencies(guests guest_${ARG_NAME})
endfunction()

# bt86_add_native(NAME <name> OBJECTS <objs...> SOURCES <files...> [INCLUDES <dirs...>])
# Links ${BT86_GUEST_OUTPUT_DIR}/<name> as target guest_<name>: a hosted 32-bit Linux program from guest-compiled objects plus hosted sources (the shim
# that prints with stdio), so a workload can be checked against the real CPU.
function(bt86_add_native)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "NAME" "SOURCES;OBJECTS;INCLUDES")
  if(NOT ARG_NAME OR NOT ARG_SOURCES)
    message(FATAL_ERROR "bt86_add_native: NAME and SOURCES are required")
  endif()
  set(include_flags "")
  foreach(dir IN LISTS ARG_INCLUDES)
    get_filename_component(dir "${dir}" ABSOLUTE)
    list(APPEND include_flags -I${dir})
  endforeach()
  set(objects ${ARG_OBJECTS})
  foreach(src IN LISTS ARG_SOURCES)
    get_filename_component(src "${src}" ABSOLUTE)
    get_filename_component(base "${src}" NAME)
    set(obj "${BT86_GUEST_OUTPUT_DIR}/obj/${ARG_NAME}/${base}.o")
    file(MAKE_DIRECTORY "${BT86_GUEST_OUTPUT_DIR}/obj/${ARG_NAME}")
    add_custom_command(
      OUTPUT "${obj}"
      COMMAND "${BT86_GUEST_CC}" -m32 -march=i686 -std=gnu11 -O2 -g -fno-pie -fno-pic
              -Wall -Wextra ${include_flags} -MD -MF "${obj}.d" -c "${src}" -o "${obj}"
      DEPENDS "${src}"
      DEPFILE "${obj}.d"
      COMMENT "Compiling native object ${ARG_NAME}/${base}"
      VERBATIM)
    list(APPEND objects "${obj}")
  endforeach()
  set(exe "${BT86_GUEST_OUTPUT_DIR}/${ARG_NAME}")
  add_custom_command(
    OUTPUT "${exe}"
    COMMAND "${BT86_GUEST_CC}" -m32 -no-pie -o "${exe}" ${objects}
    DEPENDS ${objects}
    COMMENT "Linking native program ${ARG_NAME}"
    VERBATIM)
  add_custom_target(guest_${ARG_NAME} ALL DEPENDS "${exe}")
  set_target_properties(guest_${ARG_NAME} PROPERTIES BT86_GUEST_FILE "${exe}")
  _bt86_guests_target()
  add_dependencies(guests guest_${ARG_NAME})
endfunction()

# The runtime is compiled once per build tree, by target guest_runtime in the directory of the
# first guest; every guest, in any directory, links the same objects. The protection,
# interrupt and paging pieces (GDT/TSS, IDT and stubs, ring 3, system calls, PIC, PIT, watchdog,
# page pool, page tables) go into an archive instead, so a guest only gets the members it uses
# (and keeps its own IDT or GDT symbols; the 512 KiB page pool only where paging is used).
function(_bt86_guest_runtime_objects out)
  get_property(objects GLOBAL PROPERTY BT86_GUEST_RUNTIME_OBJECTS)
  if(NOT objects)
    set(sources start.S serial.c kprintf.c tap.c exit.c string.c cmdline.c)
    list(TRANSFORM sources PREPEND "${BT86_GUEST_RUNTIME_DIR}/")
    # The runtime runs on every --cpu model, the Pentium (no cmov) too.
    bt86_guest_objects(runtime OUT objects SOURCES ${sources} CFLAGS ${BT86_GUEST_P5_CFLAGS})

    set(sys_sources desc.c idt.c isr.S user.c syscall.c pic.c pit.c protected_init.c page_pool.c
                    paging.c watchdog.c)
    list(TRANSFORM sys_sources PREPEND "${BT86_GUEST_RUNTIME_DIR}/")
    bt86_guest_objects(runtime_sys OUT sys_objects SOURCES ${sys_sources}
                       CFLAGS ${BT86_GUEST_P5_CFLAGS})
    set(sys_archive "${BT86_GUEST_OUTPUT_DIR}/obj/libguest_sys.a")
    add_custom_command(
      OUTPUT "${sys_archive}"
      COMMAND "${CMAKE_COMMAND}" -E rm -f "${sys_archive}"
      COMMAND "${CMAKE_AR}" rcs "${sys_archive}" ${sys_objects}
      DEPENDS ${sys_objects}
      COMMENT "Archiving guest system runtime"
      VERBATIM)

    add_custom_target(guest_runtime DEPENDS ${objects} "${sys_archive}")
    set_property(GLOBAL PROPERTY BT86_GUEST_RUNTIME_OBJECTS "${objects}")
    set_property(GLOBAL PROPERTY BT86_GUEST_SYSTEM_ARCHIVE "${sys_archive}")
  endif()
  set(${out} "${objects}" PARENT_SCOPE)
endfunction()

function(_bt86_guests_target)
  if(NOT TARGET guests)
    add_custom_target(guests)
  endif()
endfunction()
