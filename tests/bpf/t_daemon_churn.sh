#!/bin/bash
# Claim: while 200 short-lived processes matching a rule come and go, the
# daemon's RSS and the number of BPF map entries stay bounded, and all of
# it is given back once they are gone. Prints the figures.
. "$(dirname "$0")/lib.sh"

start_daemon --metrics off || { fail "daemon did not start"; exit 0; }
"$MS" attach --comm blip > /dev/null
rss() { awk '/^VmRSS/ {print $2}' /proc/"$DPID"/status; }
rss0=$(rss)
maxrss=$rss0; maxlive=0; maxpids=0
for i in $(seq 200); do
	"$O/tests/targets/blip" &
	if (( i % 20 == 0 )); then
		s=$("$MS" stats -j)
		l=$(echo "$s" | jq .maps.live); p=$(echo "$s" | jq .maps.pids)
		(( l > maxlive )) && maxlive=$l
		(( p > maxpids )) && maxpids=$p
		r=$(rss); (( r > maxrss )) && maxrss=$r
		sleep 0.2
	fi
	sleep 0.02
done
wait_gone() {
	for _ in $(seq 100); do
		[ "$("$MS" ps -j | jq '.processes | length')" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}
for p in $(jobs -p); do [ "$p" != "$DPID" ] && wait "$p" 2>/dev/null; done
check_cmd "all 200 gone from ps" wait_gone
s=$("$MS" stats -j)
rss1=$(rss)
echo "figures: daemon RSS start ${rss0} KiB, max ${maxrss} KiB, end ${rss1} KiB;" \
     "max watched at once ${maxpids}, max live entries ${maxlive};" \
     "exec events $(echo "$s" | jq .exec_events), exit events $(echo "$s" | jq .exit_events)," \
     "attach errors $(echo "$s" | jq .attach_errors)"
check "watched at least 180 of the 200 through their exit" "$([ "$(echo "$s" | jq .exit_events)" -ge 180 ] && echo yes)" yes
check "end: no live entries" "$(echo "$s" | jq .maps.live)" 0
check "end: no aggregates" "$(echo "$s" | jq .maps.aggregates)" 0
check "end: no stack traces kept" "$(echo "$s" | jq .maps.stacks)" 0
check "end: pids map empty" "$(echo "$s" | jq .maps.pids)" 0
check "daemon RSS grew by less than 8 MiB" "$([ $((maxrss - rss0)) -lt 8192 ] && echo yes)" yes
