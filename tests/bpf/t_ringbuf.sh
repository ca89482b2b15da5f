#!/bin/bash
# Claim (issue "Hostile conditions"): when the lifecycle ring buffer
# overflows (a 4 KiB one here: 13 events, and a burst of 300 execs matching
# a rule), the drops are counted in stats and /metrics, memsightd keeps
# running, and what it did see it handled: every process it picked up and saw
# exit is gone from ps.
. "$(dirname "$0")/lib.sh"

MPORT=$((20000 + $$ % 5000 + 13))
start_daemon --metrics "127.0.0.1:$MPORT" --events-ring-bytes 4096 || { fail "daemon did not start"; exit 0; }
"$MS" attach --comm blip > /dev/null
# a burst: the daemon sleeps in nothing, but 300 execs in a few ms outrun 13 slots
for i in $(seq 300); do "$O/tests/targets/blip" & done
wait_jobs() { for p in $(jobs -p); do [ "$p" != "$DPID" ] && wait "$p" 2>/dev/null; done; }
wait_jobs
sleep 2
s=$("$MS" stats -j)
lost=$(echo "$s" | jq .events_lost)
echo "figures: exec events $(echo "$s" | jq .exec_events), exit events $(echo "$s" | jq .exit_events), lost $lost"
check "overflow counted in stats ($lost)" "$([ "$lost" -gt 0 ] && echo yes)" yes
# a later snapshot publishes the metrics: wait for it (up to 15 s on a busy machine)
metric_lost() {
	curl -sf "http://127.0.0.1:$MPORT/metrics" |
		grep -qE '^memsight_lost_events_total\{reason="ringbuf_full"\} [1-9]'
}
for _ in $(seq 30); do metric_lost && break; sleep 0.5; done
check_cmd "overflow counted in /metrics" metric_lost
check_cmd "daemon alive and serving" bash -c "[ \"\$('$MS' ping)\" = '{\"ok\":true}' ]"
# exits it missed leave processes that are gone: they must not linger as watched
for _ in $(seq 30); do
	n=$("$MS" ps -j | jq '[.processes[] | select(.comm == "blip")] | length')
	[ "$n" -eq 0 ] && break
	sleep 0.5
done
check "no blip left in ps (exits it missed found by snapshots)" "$n" 0
