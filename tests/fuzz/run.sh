#!/bin/bash
# tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET] - build the libFuzzer
# targets (make fuzz-build) and run each for SECONDS_PER_TARGET (default 20),
# one after another. Prints per target
#   PASS fuzz_<name>: N runs, 0 crashes
#   FAIL fuzz_<name>: <crash file> ...
# and a closing line "fuzz: N passed, N failed"; exit status 1 if any failed.
# Found inputs accumulate in BUILD_DIR/fuzz/corpus/<name>/ (so a long run
# continues where the last one stopped), crashes in BUILD_DIR/fuzz/crashes/,
# logs in BUILD_DIR/fuzz/logs/. FUZZ_TARGETS="a b" runs a subset.
O=${1:-build}
T=${2:-20}
cd "$(dirname "$0")/../.." || exit 1

targets=${FUZZ_TARGETS:-elf symbolize goruntime ctl_proto config procfs unwind ustacks textsafe cgroup sampler_table podinfo report_read budget_file pprof_read http_auth}
ntargets=$(echo "$targets" | wc -w)

# Per-target input size bound: a Go binary is ~2 MiB (elf reads cut copies of them); a procfs file may be
# 64 KiB + 1 to reach the parsers' size limit; a request line 4 KiB + more.
max_len() {
	case $1 in
	symbolize) echo 65536 ;;
	goruntime) echo 2097152 ;;
	elf) echo 262144 ;;
	ctl_proto) echo 8192 ;;
	config) echo 16384 ;;
	procfs) echo 70000 ;;
	report_read) echo 16384 ;;
	pprof_read) echo 16384 ;;
	*) echo 4096 ;;
	esac
}

if ! make --no-print-directory O="$O" fuzz-build; then
	echo "FAIL fuzz: build failed"
	echo "fuzz: 0 passed, $ntargets failed"
	exit 1
fi

scratch=$(mktemp -d /dev/shm/ms-fuzz-run.XXXXXX 2>/dev/null || mktemp -d /tmp/ms-fuzz-run.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

pass=0
fail=0
mkdir -p "$O/fuzz/logs"
: > "$O/fuzz/logs/summary"
for t in $targets; do
	bin=$O/fuzz/fuzz_$t
	corpus=$O/fuzz/corpus/$t
	crashes=$O/fuzz/crashes/$t
	log=$O/fuzz/logs/$t.log
	dict=tests/fuzz/$t.dict
	mkdir -p "$corpus" "$crashes"
	args=(-max_total_time="$T" -rss_limit_mb=2048 -max_len="$(max_len "$t")" -timeout=10
	      -print_final_stats=1 -artifact_prefix="$crashes/")
	[ -f "$dict" ] && args+=(-dict="$dict")
	MS_FUZZ_TMPDIR=$scratch \
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$bin" "${args[@]}" "$corpus" "$O/fuzz/seeds/$t" > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	echo "fuzz_$t: ${runs:-0} runs in ${secs:-?} s, corpus $(ls "$corpus" | wc -l) files," \
	     "exit $rc" >> "$O/fuzz/logs/summary"
	if [ "$rc" -eq 0 ] && [ -n "$runs" ] && [ -z "$unit" ]; then
		echo "PASS fuzz_$t: $runs runs, 0 crashes"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz_$t: ${unit:-no crash file (exit $rc)}; log $log"
		grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|check failed' \
			"$log" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
