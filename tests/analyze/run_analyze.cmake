# Runs civicperf-analyze with ARGS ('|'-separated) and checks its exit code (RC) and output
# (STDOUT_REGEX, STDERR_REGEX); with SAME_AS, runs it again with those
# arguments and requires the same standard output apart from the workflow's
# "description" line. Writes the small malformed log bad.csv into WORK first.

string(REPLACE "|" ";" ARGS "${ARGS}")
string(REPLACE "|" ";" SAME_AS "${SAME_AS}")
file(MAKE_DIRECTORY "${WORK}")
# Tests run in parallel and each writes bad.csv: write a private copy and
# rename it into place (atomic), so no test ever reads a half-written file.
string(RANDOM LENGTH 12 _tmp)
file(WRITE "${WORK}/bad.csv.${_tmp}"
  "case:concept:name,concept:name,time:timestamp\n"
  "c1,a,2020-01-01 10:00:00+01:00\n"
  "c1,b,later\n"
  "c1,c,2020-01-01 12:00:00+01:00\n")
file(RENAME "${WORK}/bad.csv.${_tmp}" "${WORK}/bad.csv")

execute_process(COMMAND "${ANALYZE}" ${ARGS}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc STREQUAL RC)
  message(FATAL_ERROR "exit code ${rc}, expected ${RC}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(STDOUT_REGEX AND NOT out MATCHES "${STDOUT_REGEX}")
  message(FATAL_ERROR "stdout does not match '${STDOUT_REGEX}':\n${out}")
endif()
if(STDERR_REGEX AND NOT err MATCHES "${STDERR_REGEX}")
  message(FATAL_ERROR "stderr does not match '${STDERR_REGEX}':\n${err}")
endif()
if(SAME_AS)
  execute_process(COMMAND "${ANALYZE}" ${SAME_AS}
    RESULT_VARIABLE rc2 OUTPUT_VARIABLE out2 ERROR_VARIABLE err2)
  if(NOT rc2 EQUAL 0)
    message(FATAL_ERROR "second run: exit code ${rc2}\n${err2}")
  endif()
  string(REGEX REPLACE "\"description\": \"[^\"]*\"" "" a "${out}")
  string(REGEX REPLACE "\"description\": \"[^\"]*\"" "" b "${out2}")
  if(NOT a STREQUAL b)
    message(FATAL_ERROR "the two runs differ:\n${ARGS}\n${SAME_AS}")
  endif()
endif()
