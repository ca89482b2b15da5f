#!/bin/bash
# Claims (issue "Go services as shipped", item 6: goroutine leaks over time),
# on the unmodified goservice, which starts one never-ending goroutine per
# /leak request at one `go` statement, watched by memsightd (snapshots every
# second; a 30 s growth window, longer than the whole test, so the leak is
# in the window of every check however slow the machine):
# - while it leaks at a steady rate, `top PID --growth` ranks that creation
#   site first, at a rate within 50% of the rate the requests were sent at;
# - once the requests stop, the site's count is exactly the number of
#   requests, and the other sites plus "other" add up to the goroutines;
# - `ps` shows the process's goroutine growth and that site as the fastest
#   growing one (JSON and text);
# - /metrics has the site's count and growth series, and passes promtool;
# - the same service stripped (-s -w, as shipped), leaking at half the rate
#   beside it: its site ranked first too, by name and line, its count exact.
. "$(dirname "$0")/lib.sh"

GOLINE=$(grep -n 'GOSERVICE-GO-STATEMENT' tests/targets/goservice/main.go | cut -d: -f1)
SITE="main.leakHandler main.go:$GOLINE"
PORT=$((25000 + RANDOM % 5000))
PORT2=$((PORT + 1))
MPORT=$((30000 + RANDOM % 5000))
cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
growth_window_s = 30
[metrics]
listen = 127.0.0.1:$MPORT
CONF

"$O/tests/targets/goservice" "127.0.0.1:$PORT" > "$TMP/g.out" 2>&1 &
GPID=$!; PIDS_TO_KILL+=("$GPID")
wait_for "$TMP/g.out" '^ready' 10 || { fail "goservice did not start"; exit 0; }
"$O/tests/targets/goservice-stripped" "127.0.0.1:$PORT2" > "$TMP/s.out" 2>&1 &
SPID=$!; PIDS_TO_KILL+=("$SPID")
wait_for "$TMP/s.out" '^ready' 10 || { fail "goservice-stripped did not start"; exit 0; }
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
"$MS" attach "$GPID" > /dev/null
"$MS" attach "$SPID" > /dev/null
check "goservice watched" "$(wait_watched "$GPID" yes 10 && echo yes)" yes
check "goservice-stripped watched" "$(wait_watched "$SPID" yes 10 && echo yes)" yes
sleep 1.5	# a first sample before the leak

# the leak: 10 requests every half second (one curl, URL ranges), for 8 s
BURSTS=16
t0=$(date +%s%N)
for ((b = 0; b < BURSTS; b++)); do
	curl -sf "http://127.0.0.1:$PORT/leak?r=[1-10]" > /dev/null || break
	curl -sf "http://127.0.0.1:$PORT2/leak?r=[1-5]" > /dev/null || break
	sleep 0.5
done
t1=$(date +%s%N)
# the window holds the leak and the 1.5 s before it
"$MS" top "$GPID" --growth -n 1 -j > "$TMP/leaking.json"
N=$(curl -sf "http://127.0.0.1:$PORT/stats" | jq .leaked)
check "all requests served" "$N" $((BURSTS * 10))
sent=$(awk -v n="$N" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", n * 60e9 / (t1 - t0) }')
J=$TMP/leaking.json
check "top --growth: the leaking site ranks first" "$(jq -r '.goroutine_sites[0].site' "$J")" "$SITE"
check "top --growth: func, file and line of the go statement" \
	"$(jq -r '.goroutine_sites[0] | "\(.func) \(.file | split("/") | last):\(.line)"' "$J")" "$SITE"
rate=$(jq '.goroutine_sites[0].growth_per_min' "$J")
check "top --growth: its rate ($rate/min) is within 50% of the rate sent ($sent/min)" \
	"$(awk -v a="$rate" -v s="$sent" 'BEGIN { print (a >= 0.5 * s && a <= 1.5 * s) ? "yes" : "no" }')" yes
check "top --growth: the process's goroutines grow too" \
	"$(jq '.goroutines_growth_per_min > 0' "$J")" true
# (a connection's goroutine caught by one sample may tilt its site a little)
check "top --growth: every other site grows at under a tenth of its rate" \
	"$(jq '.goroutine_sites[0].growth_per_min as $r | [.goroutine_sites[1:][] |
		select(.growth_per_min != null and .growth_per_min >= $r / 10)] | length' "$J")" 0

# stopped: after the next samples the count is exact
sleep 2.5
"$MS" top "$GPID" --growth -n 1 -j > "$TMP/after.json"
J=$TMP/after.json
G=$(curl -sf "http://127.0.0.1:$PORT/stats" | jq .goroutines)
check "top --growth: the site's count is the number of requests" \
	"$(jq --arg s "$SITE" '.goroutine_sites[] | select(.site == $s) | .count' "$J")" "$N"
check "top --growth: the sites add up to the goroutines" \
	"$(jq '[.goroutine_sites[].count] | add' "$J")" "$(jq .go.goroutines "$J")"
g=$(jq .go.goroutines "$J")
check "top --growth: goroutines within 2 of runtime.NumGoroutine ($g vs $G)" \
	"$([ $((g - G)) -ge -2 ] && [ $((g - G)) -le 2 ] && echo yes)" yes
check "top --growth: still ranked first, growing" \
	"$(jq -r '"\(.goroutine_sites[0].site) \(.goroutine_sites[0].growth_per_min > 0)"' "$J")" "$SITE true"
"$MS" top "$GPID" --growth -n 1 > "$TMP/after.txt"
first=$(grep -A2 -E '^goroutines: [0-9]+ now, \+[0-9.]+/min over the last [0-9]+ s; creation sites ranked by growth:$' \
	"$TMP/after.txt" | sed -n 3p)
check_cmd "top --growth text: sites ranked by growth, the leak first with its count ($first)" \
	grep -qE "^ +\\+[0-9.]+ +$N  $SITE\$" <<< "$first"

# ps
"$MS" ps -j > "$TMP/ps.json"
P=$(jq --argjson p "$GPID" '.processes[] | select(.pid == $p)' "$TMP/ps.json")
check "ps: goroutine growth per minute > 0" "$(jq '.goroutines_growth_per_min > 0' <<< "$P")" true
check "ps: the fastest growing site" \
	"$(jq -r '.goroutines_top_growing_site | "\(.site) \(.count)"' <<< "$P")" "$SITE $N"
"$MS" ps > "$TMP/ps.txt"
check_cmd "ps text: the fastest growing site under the process" \
	grep -qE "^ +goroutines grow fastest at $SITE: \\+[0-9.]+/min, $N now\$" "$TMP/ps.txt"

# the Go heap: /stats collects, then reads HeapAlloc, which is then the live
# heap; the service is idle, so the next snapshots see that GC's figure
H=$(curl -sf "http://127.0.0.1:$PORT/stats" | jq .heap_alloc)
sleep 2.5
"$MS" ps -j > "$TMP/ps2.json"
live=$(jq --argjson p "$GPID" '.processes[] | select(.pid == $p) | .go_heap_live_after_last_gc_bytes' "$TMP/ps2.json")
check "ps: the live heap after the last GC within 15% of the runtime's ($live vs $H)" \
	"$(within 15 "$live" "$H")" yes

# /metrics
curl -sf "http://127.0.0.1:$MPORT/metrics" > "$TMP/metrics.txt"
L="pid=\"$GPID\",comm=\"goservice\""
check "metrics: the site's goroutines" \
	"$(grep -F "memsight_go_goroutines_by_site{$L,site=\"$SITE\"} " "$TMP/metrics.txt" | awk '{print $NF}')" "$N"
check "metrics: the site's growth > 0" \
	"$(grep -F "memsight_go_goroutines_by_site_growth_per_minute{$L,site=\"$SITE\"} " "$TMP/metrics.txt" | awk '{print ($NF > 0) ? "yes" : "no"}')" yes
check "metrics: the process's goroutine growth > 0" \
	"$(grep -F "memsight_go_goroutines_growth_per_minute{$L} " "$TMP/metrics.txt" | awk '{print ($NF > 0) ? "yes" : "no"}')" yes
check "metrics: by-site series add up to memsight_go_goroutines" \
	"$(grep -F "memsight_go_goroutines_by_site{$L," "$TMP/metrics.txt" | awk '{s += $NF} END {print s}')" \
	"$(grep -F "memsight_go_goroutines{$L}" "$TMP/metrics.txt" | awk '{print $NF}')"
check "metrics: no unavailable series for a readable process" \
	"$(grep -c "^memsight_go_goroutines_unavailable{$L" "$TMP/metrics.txt")" 0
live=$(grep -F "memsight_go_heap_live_bytes{$L} " "$TMP/metrics.txt" | awk '{print $NF}')
check "metrics: the live heap within 15% of the runtime's ($live vs $H)" "$(within 15 "$live" "$H")" yes
check "metrics: heap alloc present, no heap-unavailable series for a readable process" \
	"$(grep -c "^memsight_go_heap_alloc_bytes{$L}" "$TMP/metrics.txt") $(grep -c "^memsight_go_heap_unavailable{$L" "$TMP/metrics.txt")" "1 0"
check_cmd "metrics: promtool check metrics passes" bash -c "promtool check metrics < '$TMP/metrics.txt'"

# stripped: names and lines from .gopclntab, runtime globals located from code
"$MS" top "$SPID" --growth -n 1 -j > "$TMP/stripped.json"
NS=$(curl -sf "http://127.0.0.1:$PORT2/stats" | jq .leaked)
check "stripped: all requests served" "$NS" $((BURSTS * 5))
check "stripped: top --growth ranks the leaking site first, growing, with its exact count" \
	"$(jq -r '.goroutine_sites[0] | "\(.site) \(.growth_per_min > 0) \(.count)"' "$TMP/stripped.json")" \
	"$SITE true $NS"
kill "$GPID" "$SPID"
