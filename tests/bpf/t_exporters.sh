#!/bin/bash
# Claims (issue "Speak the ecosystem"):
# - `go tool pprof -top` on memsight's pprof dump of the leaky target lists
#   the same top functions and bytes as `memsight top`;
# - folded output and the SVG flame graph name the leaking function with its
#   bytes, and the SVG is well-formed XML;
# - memsightd's /metrics passes `promtool check metrics` even for a process
#   named with a quote, a backslash, a newline and invalid UTF-8;
# - a real Prometheus server scrapes memsightd and a PromQL query returns
#   the target's heap in use.
. "$(dirname "$0")/lib.sh"
export HOME=$TMP GOCACHE=$TMP/gocache

cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
[metrics]
top_stacks = 3
CONF
MPORT=$((20000 + $$ % 5000)); PPORT=$((MPORT + 1))
start_daemon --config "$TMP/memsightd.conf" --metrics "127.0.0.1:$MPORT" || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/t.out"
LPID=$TPID
"$MS" attach "$LPID" > /dev/null
kill -USR1 "$LPID"
wait_for "$TMP/t.out" '^done' 30

# pprof vs top
"$MS" top "$LPID" -n 3 -j > "$TMP/top.json"
"$MS" dump "$LPID" --format pprof -o "$TMP/heap.pb.gz"
go tool pprof -top -unit=B -sample_index=inuse_space "$TMP/heap.pb.gz" > "$TMP/pprof.txt" 2>&1
want=$(jq -r '.stacks[:3][] | "\(.frames[0].func) \(.inuse_bytes)"' "$TMP/top.json")
got=$(awk '$1 ~ /B$/ && $1 != "0" {sub(/B$/, "", $1); print $6, $1}' "$TMP/pprof.txt" | head -3)
check "pprof -top: same top 3 functions and bytes as memsight top" "$got" "$want"
check "pprof: alloc_objects of leak_a" \
	"$(go tool pprof -top -sample_index=alloc_objects "$TMP/heap.pb.gz" 2>/dev/null | awk '$6 == "leak_a" {print $1}')" 1000
# evidence for a miss (seen once under load: 999 of leak_a's 1000): what was lost, and where
if [ "$(jq '[.stacks[] | select(.frames[0].func == "leak_a") | .alloc_count] | add' "$TMP/top.json")" != 1000 ]; then
	echo "leak_a short: events $(jq -c .events "$TMP/top.json")" >&2
	"$MS" top "$LPID" -n 20 -j | jq -c '.stacks[] | {alloc_count, inuse_bytes, f: [.frames[:4][] | .func // .module_offset]}' >&2
fi

bid=$(readelf -n "$O/tests/targets/leaky" | awk '/Build ID/ {print $3}')
check "pprof: the leaky mapping carries its build ID" \
	"$(go tool pprof -raw "$TMP/heap.pb.gz" 2>/dev/null | awk '/^Mappings/ {m = 1} m && /targets\/leaky / {print $4}' | head -1)" "$bid"

# folded and SVG
"$MS" dump "$LPID" --format folded -o "$TMP/heap.folded"
check_cmd "folded: main;leak_a;malloc 4096000" grep -qE '(^|;)main;leak_a;malloc 4096000$' "$TMP/heap.folded"
"$MS" dump "$LPID" --format svg -o "$TMP/heap.svg"
check_cmd "svg: well-formed XML" xmllint --noout "$TMP/heap.svg"
check_cmd "svg: leak_a box with its bytes" grep -qE '<title>leak_a \(4,?096,?000 bytes' "$TMP/heap.svg"

# a hostile name, in the same daemon
LEAKY_COMM=$'ev"il\\n\nme\xff' "$O/tests/targets/leaky" > "$TMP/h.out" 2>&1 &
HPID=$!; PIDS_TO_KILL+=("$HPID")
wait_for "$TMP/h.out" '^ready' 10
"$MS" attach "$HPID" > /dev/null
kill -USR1 "$HPID"
wait_for "$TMP/h.out" '^done' 30
sleep 2.5	# a snapshot publishes the metrics
curl -sf "http://127.0.0.1:$MPORT/metrics" > "$TMP/metrics.txt"
check_cmd "promtool check metrics passes" bash -c "promtool check metrics < '$TMP/metrics.txt'"
check_cmd "hostile name escaped in labels" \
	grep -qF "memsight_process_heap_inuse_bytes{pid=\"$HPID\",comm=\"ev\\\"il\\\\n\\nme"$'\xef\xbf\xbd'"\"} 4211536" "$TMP/metrics.txt"
check_cmd "heap in use with glibc's rounding = leaky's own malloc_usable_size sum" \
	grep -qF "memsight_process_heap_inuse_usable_bytes{pid=\"$LPID\",comm=\"leaky\"} $(sed -n 's/^usable //p' "$TMP/t.out")" \
	"$TMP/metrics.txt"
check_cmd "top stack gauge names leak_a" \
	grep -qF "memsight_stack_inuse_bytes{pid=\"$LPID\",comm=\"leaky\",rank=\"1\",frame=\"leak_a\"} 4096000" "$TMP/metrics.txt"

# a real Prometheus scrapes it
start_prometheus "$MPORT" "$PPORT"
val=""
for _ in $(seq 60); do
	val=$(curl -sf "http://127.0.0.1:$PPORT/api/v1/query" \
		--data-urlencode "query=memsight_process_heap_inuse_bytes{pid=\"$LPID\"}" |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	[ -n "$val" ] && break
	sleep 0.5
done
check "PromQL: heap in use of the target" "$val" 4211536
hv=$(curl -sf "http://127.0.0.1:$PPORT/api/v1/query" \
	--data-urlencode "query=memsight_process_heap_inuse_bytes{pid=\"$HPID\"}" | jq -r '.data.result[0].metric.comm')
check "PromQL: hostile name round-trips" "$hv" $'ev"il\\n\nme\xef\xbf\xbd'
kill "$PROMPID"
