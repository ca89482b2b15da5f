#!/bin/bash
# Claim: kill -9 of memsightd leaves, within 1 s, none of its programs or
# links, and the processes it watched run on unaffected.
. "$(dirname "$0")/lib.sh"

start_daemon --metrics off || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/t.out"
"$MS" attach "$TPID" > /dev/null
remember_progs "$DPID"
check "daemon holds programs" "$([ "$(our_progs)" -ge 4 ] && echo yes)" yes
t0=$(date +%s%N)
kill -9 "$DPID"
gone=no
while [ $(( $(date +%s%N) - t0 )) -lt 1000000000 ]; do
	if [ "$(our_progs)" -eq 0 ]; then gone=yes; break; fi
	sleep 0.05
done
echo "programs gone $(( ($(date +%s%N) - t0) / 1000000 )) ms after SIGKILL"
check "kill -9: no program of ours within 1 s" "$gone" yes
check "kill -9: no link of ours" "$(for id in $OUR_IDS; do bpftool link show | grep -c "prog $id\$"; done | awk '{s+=$1} END {print s+0}')" 0
kill -USR1 "$TPID"
wait_for "$TMP/t.out" '^done' 30
kill -USR2 "$TPID"
wait_for "$TMP/t.out" '^(verified|corrupted)' 10
check "kill -9: target works on, memory intact" "$(tail -1 "$TMP/t.out")" verified
# a new daemon starts over the stale socket left behind
start_daemon --metrics off
check "restart over a stale socket" "$("$MS" ping)" '{"ok":true}'
