#!/bin/bash
# run1.sh FILE [TIMEOUT_S]: run one real-BPF test file the way both
# tests/bpf/run.sh (host) and tests/kernels/init.sh (guest) do. A file passes
# only if it exits 0 and made at least one check (a PASS or FAIL line of its
# own in $RESULTS): one that stops before its first check has proved nothing,
# so it gets a FAIL line saying why, as does a non-zero exit.
: "${RESULTS:?RESULTS must name the results file}"
t=$1 name=$(basename "$1" .sh)
[ -f "$t" ] || { echo "FAIL $name: no such test file $t" | tee -a "$RESULTS"; exit 1; }
# lines are counted before and after: $RESULTS must be a file, not /dev/null
: >> "$RESULTS"
checks() { grep -cE '^(PASS|FAIL) ' "$RESULTS"; }
before=$(checks)
timeout "${2:-300}" bash "$t"
rc=$?
made=$(($(checks) - before))
if [ $rc -eq 124 ]; then
	echo "FAIL $name: script timed out after ${2:-300} s ($made checks made)" | tee -a "$RESULTS"
elif [ $rc -ne 0 ]; then
	echo "FAIL $name: script exited $rc" | tee -a "$RESULTS"
fi
if [ $made -eq 0 ]; then
	echo "FAIL $name: script made no check (it stopped before its first one)" | tee -a "$RESULTS"
fi
[ $rc -eq 0 ] && [ $made -gt 0 ]
