#!/bin/bash
# Claims (numbers never wrong by omission):
# `memsight ps` reads its figures at the request, not at the last
# snapshot (the snapshot interval here is an hour): right after attach RSS,
# peak and threads are /proc's figures of that moment and the growth, which
# needs two snapshots, is "-" (null plus a reason), never 0; once leaky has
# leaked, ps shows its exact heap (4,211,536 B) and its grown RSS at once.
# Losses are per process (below); a Go process's /metrics figures are top's.
. "$(dirname "$0")/lib.sh"

printf '[daemon]\nsnapshot_interval_s = 3600\n[metrics]\nlisten = off\n' > "$TMP/memsightd.conf"
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/leaky.out"
"$MS" attach "$TPID" > /dev/null || { fail "attach failed"; exit 0; }

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status; }
ps_of() { "$MS" ps -j | jq --argjson p "$1" '.processes[] | select(.pid == $p)'; }
ps_of "$TPID" > "$TMP/ps0.json"
rss0=$(status_kb "$TPID" VmRSS)
check "right after attach: RSS is /proc's (leaky is idle: within 5%)" \
	"$(within 5 "$(jq .rss_bytes "$TMP/ps0.json")" $((rss0 * 1024)))" yes
check "right after attach: peak RSS is /proc's" \
	"$(within 5 "$(jq .peak_rss_bytes "$TMP/ps0.json")" $(($(status_kb "$TPID" VmHWM) * 1024)))" yes
check "right after attach: threads are /proc's" \
	"$(jq .threads "$TMP/ps0.json")" "$(status_kb "$TPID" Threads)"
check "right after attach: growth is null, with a reason" \
	"$(jq '.growth_bytes_per_min == null and (.growth_unavailable | length > 0)' "$TMP/ps0.json")" true
"$MS" ps > "$TMP/ps0.txt"
row=$(awk -v p="$TPID" '$1 == p' "$TMP/ps0.txt")
echo "ps right after attach: $row"
check "text ps: the growth column says - (not +0 B)" \
	"$(echo "$row" | awk '{ print $(NF - 1) }')" "-"
check "text ps: heap 0 B (true: leaky has not allocated yet), RSS and peak not 0 B" \
	"$(grep -o ' 0 B ' <<< "$row" | wc -l)" 1

kill -USR1 "$TPID"
wait_for "$TMP/leaky.out" '^done' 20 || { fail "leaky did not finish"; exit 0; }
ps_of "$TPID" > "$TMP/ps1.json"
rss1=$(status_kb "$TPID" VmRSS)
echo "figures: RSS at attach ${rss0} KiB, after the leak ${rss1} KiB;" \
     "ps says $(jq .rss_bytes "$TMP/ps1.json") B, heap $(jq .heap_inuse_bytes "$TMP/ps1.json") B"
check "after the leak, before any snapshot: heap in use is exact" \
	"$(jq .heap_inuse_bytes "$TMP/ps1.json")" 4211536
check "after the leak: RSS is /proc's now (within 5%), not the attach-time one" \
	"$(within 5 "$(jq .rss_bytes "$TMP/ps1.json")" $((rss1 * 1024)))" yes
check "after the leak: RSS grew by at least 4 MB" \
	"$([ $((rss1 - rss0)) -ge 3900 ] && echo yes)" yes
# the memory the kernel charges for the live table is shown as it is: its
# hash buckets, 16 B an entry, up front (1048576 entries: 16 MiB)
"$MS" stats -j > "$TMP/stats.json"
# the daemon's own live table: among the maps its fds hold (other memsight
# instances on the machine have one too)
dmaps=$(sed -n 's/^map_id:[[:space:]]*//p' /proc/"$DPID"/fdinfo/* 2>/dev/null | sort -u | jq -s -c .)
live_id=$(bpftool -j map show 2>/dev/null | jq --argjson ids "$dmaps" \
	'[.[] | select(.name == "live" and (.id as $i | $ids | index($i))) | .id] | max')
check "stats: the live table's memlock is the kernel's (bpftool map show)" \
	"$(jq .maps.live_memlock_bytes "$TMP/stats.json")" \
	"$(bpftool -j map show id "$live_id" | jq .bytes_memlock)"
check "stats: the live table's buckets are charged up front (16 B an entry)" \
	"$(jq '.maps.live_memlock_bytes >= 16 * .maps.live_max' "$TMP/stats.json")" true
echo "figures: memlock of the live table $(jq .maps.live_memlock_bytes "$TMP/stats.json") B" \
     "for $(jq .maps.live_max "$TMP/stats.json") entries, of all maps $(jq .maps.memlock_bytes "$TMP/stats.json") B"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

# Losses are each process's own: manystacks overflows its stack quota while
# leaky, beside it, loses nothing; only manystacks is called a lower bound,
# in top (text and JSON), ps and /metrics.
MPORT=$((30000 + RANDOM % 5000))
printf '[daemon]\nsnapshot_interval_s = 1\nstacks_per_process = 1024\n[metrics]\nlisten = 127.0.0.1:%s\n' \
	"$MPORT" > "$TMP/quota.conf"
start_daemon --config "$TMP/quota.conf" --unwind fp || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/l2.out"; LPID=$TPID
start_target "$O/tests/targets/manystacks" "$TMP/m.out"; BPID=$TPID
"$MS" attach "$LPID" > /dev/null && "$MS" attach "$BPID" > /dev/null || { fail "attach failed"; exit 0; }
kill -USR1 "$LPID" "$BPID"
wait_for "$TMP/l2.out" '^done' 30 || fail "leaky did not finish"
wait_for "$TMP/m.out" '^done' 60 || fail "manystacks did not finish"
"$MS" top "$LPID" --format json > "$TMP/l.json"
"$MS" top "$BPID" --format json > "$TMP/b.json"
"$MS" top "$LPID" --format text > "$TMP/l.txt"
"$MS" top "$BPID" --format text > "$TMP/b.txt"
echo "figures: manystacks lost $(jq .events.lost_by_this_process "$TMP/b.json") events" \
     "(stack quota, all processes: $(jq .events.stack_quota "$TMP/b.json")), leaky" \
     "$(jq .events.lost_by_this_process "$TMP/l.json")"
check "quota overflowed (the daemon-wide counter says so)" \
	"$(jq '.events.stack_quota > 0' "$TMP/l.json")" true
check "top: manystacks is a lower bound, by its own losses" \
	"$(jq -c '[.events.lower_bound, .events.lost_by_this_process > 0]' "$TMP/b.json")" "[true,true]"
check "top: leaky, which lost nothing, is not" \
	"$(jq -c '[.events.lower_bound, .events.lost_by_this_process]' "$TMP/l.json")" "[false,0]"
check "top text: manystacks warned" "$(grep -c 'figures are lower bounds' "$TMP/b.txt")" 1
check "top text: leaky not warned" "$(grep -c 'figures are lower bounds' "$TMP/l.txt")" 0
"$MS" ps -j > "$TMP/ps2.json"
check "ps: lower bound for manystacks only" \
	"$(jq -c --argjson l "$LPID" --argjson b "$BPID" \
		'[(.processes[] | select(.pid == $b) | .lower_bound),
		  (.processes[] | select(.pid == $l) | .lower_bound)]' "$TMP/ps2.json")" "[true,false]"
metric() { curl -s "127.0.0.1:$MPORT/metrics" | awk -v n="$1{pid=\"$2\"," 'index($0, n) == 1 { print $2 }'; }
check "/metrics: leaky lost no events" "$(metric memsight_process_lost_events_total "$LPID")" 0
check "/metrics: manystacks' lost events counted" \
	"$([ "$(metric memsight_process_lost_events_total "$BPID")" -gt 0 ] && echo yes)" yes
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

# A Go process: /metrics counts its heap in use and its allocations as top
# does (the runtime's profile and the probes' samples), and announces no
# memsight_go_* family without a sample.
PORT=$((25000 + RANDOM % 5000))
"$O/tests/targets/goservice" "127.0.0.1:$PORT" > "$TMP/g.out" 2>&1 &
GPID=$!; PIDS_TO_KILL+=("$GPID")
wait_for "$TMP/g.out" '^ready' 10 || { fail "goservice did not start"; exit 0; }
# a sample every 4 KiB: the 200 objects of 4 KiB /leak keeps are all but
# certainly in the runtime's heap profile (at 512 KiB the few sampled ones
# may all be garbage by the next GC, and in use is then 0 for real)
start_daemon --config "$TMP/quota.conf" --go-sample-bytes 4096 ||
	{ fail "daemon did not start"; exit 0; }
"$MS" attach "$GPID" > /dev/null || { fail "attach goservice failed"; exit 0; }
curl -sf "127.0.0.1:$PORT/leak?r=[1-200]" > /dev/null || fail "goservice /leak failed"
for ((i = 0; i < 50; i++)); do curl -s "127.0.0.1:$PORT/stats" > /dev/null; done
# the figures settle once the service is idle: the same twice, a snapshot apart
settled() {
	local a b i
	for ((i = 0; i < 10; i++)); do
		a=$(metric memsight_process_heap_inuse_bytes "$GPID")
		sleep 2.2
		b=$(metric memsight_process_heap_inuse_bytes "$GPID")
		[ -n "$a" ] && [ "$a" = "$b" ] && return 0
	done
	return 1
}
check_cmd "goservice idle: its /metrics heap figure settles" settled
"$MS" top "$GPID" --format json > "$TMP/g.json"
curl -s "127.0.0.1:$MPORT/metrics" > "$TMP/metrics.txt"
echo "figures: goservice top: in use $(jq .tracked.inuse_bytes "$TMP/g.json"), allocated" \
     "$(jq .tracked.alloc_bytes "$TMP/g.json"); /metrics: in use" \
     "$(metric memsight_process_heap_inuse_bytes "$GPID"), allocated" \
     "$(metric memsight_process_alloc_bytes_total "$GPID")"
check "goservice: the Go heap it keeps is counted in use (200 x 4 KiB kept)" \
	"$(jq '.tracked.inuse_bytes >= 400000' "$TMP/g.json")" true
check "/metrics heap in use of a Go process is top's" \
	"$(metric memsight_process_heap_inuse_bytes "$GPID")" "$(jq .tracked.inuse_bytes "$TMP/g.json")"
check "/metrics allocated bytes of a Go process are top's" \
	"$(metric memsight_process_alloc_bytes_total "$GPID")" "$(jq .tracked.alloc_bytes "$TMP/g.json")"
# every family announced has a sample (HELP names the family; samples start with it)
nosample=$(awk '/^# HELP / { help[$3] = 1; next } !/^#/ { n = $1; sub(/[{ ].*/, "", n); seen[n] = 1 }
	END { for (h in help) if (!seen[h]) print h }' "$TMP/metrics.txt")
check "/metrics: no family without a sample" "${nosample:-none}" none
check "/metrics: the Go families are there for a Go process" \
	"$(grep -c '^memsight_go_heap_inuse_bytes{' "$TMP/metrics.txt")" 1

# memsightd stopping puts the runtime's sampler back as it found it: the
# linker had it off (goservice has no pprof), the daemon turned it on
check "goservice: MemProfileRate 4096 while memsightd watches it" \
	"$(curl -sf "127.0.0.1:$PORT/stats" | jq .profile_rate)" 4096
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
check "goservice: MemProfileRate back to 0 once memsightd has stopped" \
	"$(curl -sf "127.0.0.1:$PORT/stats" | jq .profile_rate)" 0
