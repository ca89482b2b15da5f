#!/bin/bash
# Claim: memsight's probes are owned by its file descriptors. Killing it with
# SIGKILL leaves nothing attached within 1 s and the target runs on
# unaffected; Ctrl-C (SIGINT) stops early and still reports.
. "$(dirname "$0")/lib.sh"

start_target "$O/tests/targets/leaky" "$TMP/t.out"
start_memsight "$TMP/m.out" "$TMP/m.err" top -p "$TPID" -d 60
check "while attached: our programs are loaded" "$( [ "$(our_progs)" -gt 0 ] && echo yes)" yes
kill9_and_watch "$MPID"
kill -USR1 "$TPID"
wait_for "$TMP/t.out" '^done' 30
kill -USR2 "$TPID"
wait_for "$TMP/t.out" '^(verified|corrupted)' 10
check "SIGKILL: target works on and its memory is intact" "$(tail -1 "$TMP/t.out")" verified

# Ctrl-C: an early, complete report and a clean exit
start_memsight "$TMP/c.json" "$TMP/c.err" top -p "$TPID" -d 60 --json
kill -USR1 "$TPID"
wait_for_n "$TMP/t.out" '^done' 2 30
kill -INT "$MPID"
wait "$MPID"; rc=$?
check "SIGINT: exit status" "$rc" 0
check "SIGINT: report still has the second round's leak_a" \
	"$(stack_field "$TMP/c.json" leak_a inuse_bytes)" 4096000
check "SIGINT: no program left loaded" "$(progs_left)" 0
check_cmd "SIGINT: target still running" kill -0 "$TPID"
