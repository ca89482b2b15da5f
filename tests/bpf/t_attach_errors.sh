#!/bin/bash
# Claim: bad input gets a clear message and a non-zero exit status, never a
# crash; a target that exits mid-run still gets the report of what was
# collected until then (exit status 3).
. "$(dirname "$0")/lib.sh"

# a PID that just existed and is gone now
true & gone=$!; wait $gone
"$MS" top -p "$gone" -d 1 > "$TMP/o" 2> "$TMP/e"; rc=$?
check "vanished PID: exit status" "$rc" 1
check_cmd "vanished PID: says no such process" grep -q "no such process: $gone" "$TMP/e"

"$MS" top -p abc > "$TMP/o" 2> "$TMP/e"; rc=$?
check "non-numeric PID: usage exit status" "$rc" 2
check_cmd "non-numeric PID: says invalid PID" grep -q "invalid PID 'abc'" "$TMP/e"

"$MS" top -p -5 > "$TMP/o" 2> "$TMP/e"; rc=$?
check "negative PID: usage exit status" "$rc" 2

"$MS" top > "$TMP/o" 2> "$TMP/e"; rc=$?
check "no PID: usage exit status" "$rc" 2
check_cmd "no PID: says use -p" grep -q "no process given" "$TMP/e"

"$MS" frobnicate > "$TMP/o" 2> "$TMP/e"; rc=$?
check "unknown command: usage exit status" "$rc" 2

"$MS" top -p 2 -d 1 > "$TMP/o" 2> "$TMP/e"; rc=$?
check "kernel thread: exit status" "$rc" 1
check_cmd "kernel thread: says it has no user memory" grep -q "has no user memory" "$TMP/e"

# A stripped static binary: no symbol anywhere says where malloc is.
start_target "$O/tests/targets/stripped-static" "$TMP/s.out"
ms_prog_ids > "$TMP/before"
# it fails within milliseconds: compare what is loaded before and after
"$MS" top -p "$TPID" -d 1 > "$TMP/o" 2> "$TMP/e"; rc=$?
check "stripped static binary: exit status" "$rc" 1
check_cmd "stripped static binary: says no allocator found" \
	grep -q "no allocator found in process $TPID" "$TMP/e"
check "stripped static binary: no program left loaded" "$(new_progs_left "$TMP/before")" 0
check_cmd "stripped static binary: target unharmed" kill -0 "$TPID"
kill "$TPID"

# The target dies (SIGKILL) after leaking: what was collected is reported.
start_target "$O/tests/targets/leaky" "$TMP/l.out"
start_memsight "$TMP/l.json" "$TMP/l.err" top -p "$TPID" -d 60 --json
kill -USR1 "$TPID"
wait_for "$TMP/l.out" '^done' 30
t0=$(date +%s.%N)
kill -9 "$TPID"
wait "$MPID"; rc=$?
t1=$(date +%s.%N)
check "target killed mid-run: exit status 3" "$rc" 3
check_cmd "target killed mid-run: memsight noticed within 2 s" \
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 2) }'
check_cmd "target killed mid-run: says it exited" grep -q "process $TPID exited after" "$TMP/l.err"
check "target killed mid-run: report marks it exited" "$(jq .exited "$TMP/l.json")" true
check "target killed mid-run: leak_a bytes kept" "$(stack_field "$TMP/l.json" leak_a inuse_bytes)" 4096000
check "target killed mid-run: no program left loaded" "$(progs_left)" 0
