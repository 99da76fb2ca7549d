#!/bin/sh
# Runs one seed twin for CTest and prints its exit status after its output:
#
#   run_twin.sh TWIN [ARGS...]
#
# CTest ignores the exit status of a test that has a PASS_REGULAR_EXPRESSION,
# so the tests of CMakeLists.txt run every twin through this script and ask
# for "[seed] exit status 0" at the end of the output: a twin that prints its
# pass line and then crashes, aborts or exits non-zero fails ("[seed]
# FAILED: ..."). The script's own exit status is the twin's, 128 + the
# signal number for a twin killed by a signal.
"$@"
status=$?
if [ "$status" -eq 0 ]; then
  echo "[seed] exit status 0"
elif [ "$status" -gt 128 ]; then
  echo "[seed] FAILED: exit status $status (killed by signal $((status - 128)))"
else
  echo "[seed] FAILED: exit status $status"
fi
exit "$status"
