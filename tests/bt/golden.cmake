# Golden test of `bt86 translate`: the listing must equal the checked-in one.
#   cmake -DBT86=... -DCODE=file.bin -DAT=0x100000 -DGOLDEN=file.txt [-DOPTIONS="--tc ..."]
#         -P golden.cmake
# With BT86_UPDATE_GOLDENS=1 in the environment, the golden file is rewritten instead.
execute_process(COMMAND ${BT86} translate ${CODE} --at ${AT} ${OPTIONS} RESULT_VARIABLE status
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "bt86 translate failed (${status}): ${err}")
endif()
# The file name in the header is the build's; the golden has only its base name.
get_filename_component(name ${CODE} NAME)
string(REPLACE "${CODE}" "${name}" out "${out}")
if("$ENV{BT86_UPDATE_GOLDENS}" STREQUAL "1")
  file(WRITE ${GOLDEN} "${out}")
  message(STATUS "updated ${GOLDEN}")
  return()
endif()
file(READ ${GOLDEN} want)
if(NOT out STREQUAL want)
  get_filename_component(dir ${CODE} DIRECTORY)
  file(WRITE ${dir}/${name}.actual.txt "${out}")
  execute_process(COMMAND diff -u ${GOLDEN} ${dir}/${name}.actual.txt)
  message(FATAL_ERROR "the listing differs from ${GOLDEN} (diff above). If the emitter change "
                      "is deliberate: BT86_UPDATE_GOLDENS=1 ctest -R bt.golden, and review "
                      "the diff in git")
endif()
