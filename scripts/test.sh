#!/usr/bin/env bash
# The README's test command (and CI's): installs the dependencies (apt), then builds and
# runs every test in three builds: Release, Debug with ASan+UBSan+LSan, and the libFuzzer
# targets (clang-14). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
jobs="$(nproc)"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

run_preset() {
  local preset="$1"
  echo "=== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  echo "=== $preset: ctest"
  ctest --preset "$preset" -j"$jobs" 2>&1 | tee "$logs/$preset.log"
}

run_preset release
run_preset debug-asan
run_preset fuzz

# One total over the three runs (each ctest run printed its own summary above).
passed=0 failed=0
for f in "$logs"/*.log; do
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$f" | tail -1)
  total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
  fail=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
  passed=$((passed + total - fail))
  failed=$((failed + fail))
done
echo "labcm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
