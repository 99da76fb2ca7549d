#!/usr/bin/env bash
# weft's whole test suite, from a fresh Debian machine: installs what it
# needs, then builds and runs
#   1. every test, example and benchmark smoke run, plain (optimized, with
#      assertions of the tests themselves);
#   2. every test and example under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the thread-heavy suites (label "threads") and the examples under
#      ThreadSanitizer.
# The optimized stages compile test and example executables with -O1 -g1
# (the library keeps -O2 -g): they are checked, not timed, and this halves
# their build. The ThreadSanitizer stage builds only the suites it runs.
# Usage: scripts/test.sh [plain|asan|tsan]...   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=$(nproc)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(plain asan tsan)

build_and_test() {
  local dir=$1; shift
  local -a ctest_args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do ctest_args+=("$1"); shift; done
  shift
  cmake -S . -B "$dir" -G Ninja -Wno-dev "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" --output-on-failure --timeout 300 -j "$jobs" "${ctest_args[@]}"
}

quick_checks="-DWEFT_CHECK_COMPILE_OPTIONS=-O1;-g1"
tsan_labels='threads|seeds'

for stage in "${stages[@]}"; do
  echo "==== weft tests: $stage ===="
  case $stage in
    plain)
      build_and_test build/plain -- -DCMAKE_BUILD_TYPE=RelWithDebInfo "$quick_checks" ;;
    asan)
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        build_and_test build/asan -LE bench_smoke -- -DCMAKE_BUILD_TYPE=Debug \
        -DWEFT_SANITIZE=address,undefined -DWEFT_BUILD_BENCHMARKS=OFF ;;
    tsan)
      TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp \
        build_and_test build/tsan -L "$tsan_labels" -- -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DWEFT_SANITIZE=thread -DWEFT_BUILD_BENCHMARKS=OFF "$quick_checks" -DWEFT_TEST_LABELS="$tsan_labels" ;;
    *)
      echo "unknown stage: $stage (expected plain, asan or tsan)" >&2; exit 2 ;;
  esac
done
