# Checks that alu's dispatch() was compiled to an indirect jump through a table, the case
# the switch exists to cover. Usage: cmake -DOBJDUMP=<objdump> -DELF=<alu.elf> -P <this file>
cmake_minimum_required(VERSION 3.20)
foreach(var OBJDUMP ELF)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_jump_table: -D${var}=... is required")
  endif()
endforeach()
execute_process(
  COMMAND ${OBJDUMP} -d --no-show-raw-insn --disassemble=dispatch ${ELF}
  OUTPUT_VARIABLE listing
  ERROR_VARIABLE err
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "objdump failed (${rc}): ${err}")
endif()
if(NOT listing MATCHES "<dispatch>:")
  message(FATAL_ERROR "no function 'dispatch' in ${ELF}")
endif()
if(NOT listing MATCHES "jmp +\\*0x[0-9a-f]+\\(,%e[a-z]+,4\\)")
  message(FATAL_ERROR "dispatch() has no jump-table jump; the compiler lowered the switch "
                      "differently:\n${listing}")
endif()
message(STATUS "dispatch() jumps through a table")
