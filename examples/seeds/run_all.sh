#!/usr/bin/env bash
# Runs every built seed twin and shows its output.
#
#   examples/seeds/run_all.sh [BUILD_DIR]     (default: build)
#
# BUILD_DIR is a CMake build directory of weft configured with
# WEFT_BUILD_EXAMPLES=ON. Prints a header line per twin, then its output;
# exits non-zero if any twin fails (non-zero exit, a "[check] FAILED" line,
# or no end within 60 s), or if no twin was built.
set -u

build_dir=${1:-build}
twin_dir=$build_dir/examples/seeds

if [[ ! -d $twin_dir ]]; then
  echo "run_all.sh: no $twin_dir; configure and build $build_dir with WEFT_BUILD_EXAMPLES=ON" >&2
  exit 2
fi

shopt -s nullglob
ran=0
failed=()
for twin in "$twin_dir"/seed[0-9]*; do
  [[ -f $twin && -x $twin ]] || continue
  name=$(basename "$twin")
  echo "==================== $name ===================="
  output=$(timeout 60 "$twin" 2>&1)
  status=$?
  printf '%s\n' "$output"
  if [[ $status -ne 0 ]] || grep -q '^\[check\] FAILED' <<<"$output"; then
    echo "---- $name FAILED (exit status $status)"
    failed+=("$name")
  fi
  ran=$((ran + 1))
done

if [[ $ran -eq 0 ]]; then
  echo "run_all.sh: no seed twins found in $twin_dir" >&2
  exit 2
fi
echo "===================================================="
if [[ ${#failed[@]} -ne 0 ]]; then
  echo "seed twins: ${#failed[@]} of $ran failed: ${failed[*]}"
  exit 1
fi
echo "seed twins: all $ran passed"
