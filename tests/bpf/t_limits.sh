#!/bin/bash
# Claims (issue "Hostile conditions"): when the live-allocation table is full
# (1024 entries here, 1501 allocations kept by the target) memsight keeps
# going, counts every allocation it could not track, flags its figures as
# lower bounds in ps, top, JSON and /metrics, and never crashes; the target
# is unaffected.
. "$(dirname "$0")/lib.sh"

MPORT=$((20000 + $$ % 5000 + 7))
cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
live_entries = 1024
[metrics]
listen = 127.0.0.1:$MPORT
CONF
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/t.out"
"$MS" attach "$TPID" > /dev/null
kill -USR1 "$TPID"
wait_for "$TMP/t.out" '^done' 30
sleep 1.5
"$MS" dump "$TPID" --format json -o "$TMP/t.json"
full=$(jq .events.live_table_full "$TMP/t.json")
held=$(jq .tracked.inuse_count "$TMP/t.json")
check "table full: the untracked allocations are counted ($full)" "$([ "$full" -gt 0 ] && echo yes)" yes
check "table full: tracked + untracked >= the 1501 kept" "$([ $((full + held)) -ge 1501 ] && echo yes)" yes
check "table full: JSON flags a lower bound" "$(jq .events.lower_bound "$TMP/t.json")" true
check "table full: ps flags a lower bound" "$("$MS" ps -j | jq .lower_bound)" true
"$MS" top "$TPID" -n 1 > "$TMP/top.txt"
check_cmd "table full: top warns" grep -q 'figures are lower bounds' "$TMP/top.txt"
check_cmd "table full: /metrics counts it" \
	bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -qE '^memsight_lost_events_total\\{reason=\"live_full\"\\} [1-9]'"
check_cmd "daemon alive" kill -0 "$DPID"
kill -USR2 "$TPID"
wait_for "$TMP/t.out" '^(verified|corrupted)' 10
check "target unaffected" "$(tail -1 "$TMP/t.out")" verified
