# Runs one libFuzzer binary for a bounded time; invoked by CTest as
#   cmake -DFUZZER=... -DSEED_CORPUS=... -DWORK_DIR=... -DMAX_TOTAL_TIME_S=... -P run_fuzzer.cmake
# New inputs go to a fresh WORK_DIR/corpus, so the committed seeds are never
# modified; crash reproducers land in WORK_DIR (kept until the next run).
foreach(var FUZZER SEED_CORPUS WORK_DIR MAX_TOTAL_TIME_S)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT EXISTS ${FUZZER})
  message(FATAL_ERROR "fuzzer not built: ${FUZZER}")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/corpus)

execute_process(
  COMMAND ${FUZZER} ${WORK_DIR}/corpus ${SEED_CORPUS}
          -max_total_time=${MAX_TOTAL_TIME_S} -rss_limit_mb=2048 -timeout=10
          -artifact_prefix=${WORK_DIR}/ -print_final_stats=1
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(GLOB artifacts ${WORK_DIR}/crash-* ${WORK_DIR}/leak-* ${WORK_DIR}/timeout-* ${WORK_DIR}/oom-*)
  message(FATAL_ERROR "fuzzer failed (exit ${result}); reproducers: ${artifacts}")
endif()
