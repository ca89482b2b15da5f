#!/bin/bash
# Claim (issue "Core"): a process in another mount namespace, running a
# binary whose path exists only inside that namespace, is attached through
# /proc/PID/root and reported exactly, names included.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/ns"
# inside: a private tmpfs at $TMP/ns holding the program; outside it stays empty
unshare -m --propagation private sh -c "
	mount -t tmpfs none '$TMP/ns' &&
	cp '$O/tests/targets/leaky-static' '$TMP/ns/only-here' &&
	exec '$TMP/ns/only-here'" > "$TMP/t.out" 2>&1 &
wait_for "$TMP/t.out" '^ready' 10 || { fail "target did not start in its namespace"; exit 0; }
TPID=$(awk '/^ready/ {print $2}' "$TMP/t.out")
PIDS_TO_KILL+=("$TPID")
check "the binary is not visible from here" "$([ -e "$TMP/ns/only-here" ] && echo visible || echo hidden)" hidden
check "it runs in another mount namespace" \
	"$([ "$(readlink /proc/"$TPID"/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] && echo yes)" yes
start_memsight "$TMP/j.json" "$TMP/j.err" top -p "$TPID" -d 0 -n 0 --json
kill -USR1 "$TPID"
wait_for "$TMP/t.out" '^done' 30
kill -INT "$MPID"; wait "$MPID"; rc=$?
check "exit status" "$rc" 0
check "leak_a found by name and exact" "$(stack_field "$TMP/j.json" leak_a inuse_bytes)" 4096000
check "total exact" "$(jq .tracked.inuse_bytes "$TMP/j.json")" 4211536
