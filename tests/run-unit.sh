#!/bin/bash
# Run cmocka unit test binaries; print per-binary results and a total line.
# Usage: tests/run-unit.sh BUILD_DIR BIN... ; exit status != 0 if any failed.
O=$1; shift
pass=0; fail=0
cd "$(dirname "$0")/.." || exit 1
for bin in "$@"; do
	out=$(MS_BUILD="$O" "$bin" 2>&1); rc=$?
	echo "$out"
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "unit: $bin exited $rc" >&2; f=1
	fi
	pass=$((pass + p)); fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
echo "$pass $fail" > "$O/unit.result"
[ "$fail" -eq 0 ]
