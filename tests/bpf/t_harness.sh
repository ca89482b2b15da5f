#!/bin/bash
# Claim: the harness's own checks can fail. run1.sh (how run.sh and the
# kernel guests run each file) fails a file that stops before its first check
# or exits non-zero; "no program left" fails while one of the programs we saw
# loaded is still held (here: pinned), and never passes with none remembered.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

# fake_test NAME BODY: a test file in $TMP that sources lib.sh
fake_test() {
	printf '. "%s/lib.sh"\n%s\n' "$HERE" "$2" > "$TMP/$1.sh"
}

# run1 NAME: run1.sh on the fake NAME with its own results file; prints
# "exit-status FAIL-lines" and leaves the FAIL lines in $TMP/NAME.results
run1() {
	: > "$TMP/$1.results"
	RESULTS=$TMP/$1.results bash "$HERE/run1.sh" "$TMP/$1.sh" 20 > "$TMP/$1.log" 2>&1
	echo "$? $(grep -c '^FAIL' "$TMP/$1.results")"
}

fake_test t_early 'exit 0
pass "never reached"'
check "run1: a file that exits 0 before any check fails" "$(run1 t_early)" "1 1"
check_cmd "run1: ... saying it made no check" grep -q '^FAIL t_early: script made no check' "$TMP/t_early.results"

fake_test t_dies 'pass "one check"
exit 3'
check "run1: a file that exits 3 after a passing check fails" "$(run1 t_dies)" "1 1"
check_cmd "run1: ... saying how it exited" grep -q '^FAIL t_dies: script exited 3$' "$TMP/t_dies.results"

fake_test t_good 'pass "one check"'
check "run1: a file with a passing check that exits 0 passes" "$(run1 t_good)" "0 0"

fake_test t_failing 'fail "one failing check"'
check "run1: a failing check is a check: only its own FAIL line" "$(run1 t_failing)" "0 1"

# progs_left with nothing remembered is not "0 left"
OUR_IDS=""
check "progs_left: nothing remembered is not a count" "$(progs_left | cut -c1-15)" "none remembered"
check "kill9_and_watch: nothing remembered fails" \
	"$(sleep 60 & RESULTS=/dev/null kill9_and_watch $! | grep -c '^FAIL')" 1

# a program of ours pinned elsewhere outlives memsight: progs_left sees it
start_target "$O/tests/targets/leaky" "$TMP/t.out"
start_memsight "$TMP/m.out" "$TMP/m.err" top -p "$TPID" -d 0 || fail "memsight did not attach"
check "while attached: our programs are remembered" "$([ "$(our_progs)" -gt 0 ] && echo yes)" yes
mkdir "$TMP/bpffs"
mount -t bpf bpf "$TMP/bpffs" || fail "cannot mount a private bpffs"
trap 'umount "$TMP/bpffs" 2>/dev/null; cleanup' EXIT
read -r id _ <<< "$OUR_IDS"
bpftool prog pin id "$id" "$TMP/bpffs/held" || fail "cannot pin program $id"
kill -INT "$MPID"; wait "$MPID"
check "progs_left: a program still held is counted" "$(progs_left)" 1
rm "$TMP/bpffs/held"
check "progs_left: and once released, none is left" "$(progs_left)" 0
