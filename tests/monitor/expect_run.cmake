# Runs a command and checks how it ends:
#   cmake -P expect_run.cmake -- <status> <stderr regex> <max stderr lines> <command...>
# <max stderr lines> of 0 means any number. Used for bad input (one clear error line, a
# non-zero status) and for VM stops (a report on stderr).
set(args "")
set(seen_dashes FALSE)
foreach(i RANGE 1 ${CMAKE_ARGC})
  if(i EQUAL CMAKE_ARGC)
    break()
  endif()
  if(seen_dashes)
    list(APPEND args "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(seen_dashes TRUE)
  endif()
endforeach()
list(POP_FRONT args want_status want_regex max_lines)

execute_process(COMMAND ${args} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 60)
message(STATUS "command: ${args}\nstatus: ${status}\nstdout:\n${out}\nstderr:\n${err}")
if(NOT status STREQUAL want_status)
  message(FATAL_ERROR "exit status ${status}, expected ${want_status}")
endif()
if(NOT err MATCHES "${want_regex}")
  message(FATAL_ERROR "stderr does not match '${want_regex}'")
endif()
if(max_lines GREATER 0)
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines n)
  if(n GREATER max_lines)
    message(FATAL_ERROR "stderr has ${n} lines, expected at most ${max_lines}")
  endif()
endif()
