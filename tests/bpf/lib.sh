#!/bin/bash
# Shared helpers for the real-BPF integration tests. Each test script is run
# by tests/bpf/run.sh with O (build dir), MS (memsight binary) and RESULTS (a
# file collecting "PASS name" / "FAIL name" lines) in the environment.

: "${O:=build}"
: "${MS:=$O/memsight}"
: "${RESULTS:=/dev/null}"
T_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/memsight-$T_NAME.XXXXXX")
PIDS_TO_KILL=()

cleanup() {
	for p in "${PIDS_TO_KILL[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

pass() { echo "PASS $T_NAME: $*"; echo "PASS $T_NAME: $*" >> "$RESULTS"; }
fail() { echo "FAIL $T_NAME: $*"; echo "FAIL $T_NAME: $*" >> "$RESULTS"; }

# check DESCRIPTION ACTUAL EXPECTED
check() {
	if [ "$2" == "$3" ]; then pass "$1 ($2)"; else fail "$1: got '$2', expected '$3'"; fi
}

# check_cmd DESCRIPTION COMMAND... : passes when the command succeeds
check_cmd() {
	local d=$1; shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}

# wait_for FILE REGEX [TIMEOUT_S]: wait until a line of FILE matches
wait_for() {
	local i
	for ((i = 0; i < ${3:-20} * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timeout waiting for /$2/ in $1:" >&2; cat "$1" >&2
	return 1
}

# wait_for_n FILE REGEX N [TIMEOUT_S]: wait until N lines of FILE match
wait_for_n() {
	local i
	for ((i = 0; i < ${4:-20} * 10; i++)); do
		[ "$(grep -cE "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
	done
	echo "timeout waiting for $3 x /$2/ in $1:" >&2; cat "$1" >&2
	return 1
}

# start_target BINARY OUTFILE: start a target that prints "ready PID"; sets TPID
start_target() {
	"$1" > "$2" 2>&1 &
	TPID=$!
	PIDS_TO_KILL+=("$TPID")
	wait_for "$2" '^ready' 10
}

# start_memsight OUTFILE ERRFILE ARGS...: start memsight in the background
# and wait until it has attached; sets MPID
start_memsight() {
	local out=$1 err=$2; shift 2
	"$MS" "$@" > "$out" 2> "$err" &
	MPID=$!
	PIDS_TO_KILL+=("$MPID")
	wait_for "$err" 'attached to PID|error' 30
}

# our_progs: names of memsight's BPF programs still loaded (none expected)
our_progs() {
	bpftool prog show 2>/dev/null | grep -oE 'name ms_[a-z_]+' | sort -u
}

# progs_left: how many of our programs are still loaded once the kernel has
# had 1 s to free them (program memory is released after an RCU grace period)
progs_left() {
	local i n
	for ((i = 0; i < 20; i++)); do
		n=$(our_progs | wc -l)
		[ "$n" -eq 0 ] && break
		sleep 0.05
	done
	echo "$n"
}

# stack_field JSON FUNC FIELD: FIELD summed over stacks having FUNC as a frame
stack_field() {
	jq --arg f "$2" --arg k "$3" \
		'[.stacks[] | select(any(.frames[]; .func == $f)) | .[$k]] | add // 0' "$1"
}
