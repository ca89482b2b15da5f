#!/bin/bash
# Claims (issue "Go services as they are shipped"), on an unmodified Gin
# service (tests/targets/ginservice) built by Debian's Go 1.19 and by go1.27.4,
# plain and stripped (-s -w), with cgo off and on (tests/targets/gin.mk), after
# N requests to each of its leaks, checked against the service's own
# runtime figures (its /stats and /gc endpoints):
# - goroutines within 5% of runtime.NumGoroutine read at the same moment;
# - the per-request goroutines grouped under the `go` statement that started
#   them (main.spawnHandler, main.go:line), exactly N, waiting on a channel;
#   the timer loop's goroutine under its own `go` statement in main.main;
# - the Go heap: in use, allocated and idle within 15% of HeapInuse,
#   HeapAlloc and HeapIdle, allocated within 15% of the live heap after a
#   forced GC, the same GC cycle count;
# - the runtime's own sampler (runtime.MemProfileRate set to --go-sample-bytes
#   while attached, back to its old value after detach); the runtime's in-use
#   heap profile holds N payloads (16 KiB each, within 15%) under the
#   middleware that keeps the contexts and under the unbounded cache, and so
#   do memsight's own samples of the go1.19 builds (go1.23+: a known
#   failure, left out below);
# - the Go version the runtime reports.
. "$(dirname "$0")/lib.sh"

N=200
RATE=4096
SRC=tests/targets/ginservice/main.go
SPAWN_LINE=$(grep -n 'GIN-SPAWN-GO-STATEMENT' "$SRC" | cut -d: -f1)
TIMER_LINE=$(grep -n 'GIN-TIMER-GO-STATEMENT' "$SRC" | cut -d: -f1)
BUILDS=$(cat "$O/tests/targets/gin/builds" 2>/dev/null)
[ -n "$BUILDS" ] || fail "no Gin builds listed in $O/tests/targets/gin/builds (make all)"

# first_app_frame_sum KIND FIELD FUNC JSON: FIELD summed over the KIND stacks
# whose first frame outside the runtime is FUNC
first_app_frame_sum() {
	jq --arg k "$1" --arg v "$2" --arg f "$3" '[.stacks[] | select(.kind == $k) |
		select([.frames[].func // "" | select(startswith("runtime.") | not)][0] == $f) |
		.[$v]] | add // 0' "$4"
}

# site_at LINE JSON: the creation-site groups at main.go:LINE, as
# "func file:line count wait-reason"
site_at() {
	jq -r --argjson l "$1" '[.go.goroutines_by_creation_site[] |
		select(.line == $l and (.file | endswith("/main.go")))] |
		map("\(.func) \(.file | split("/") | last):\(.line) \(.count) \(.wait_reason)") |
		join(", ")' "$2"
}

for b in $BUILDS; do
	bin=$O/tests/targets/gin/$b
	[ -x "$bin" ] || { fail "$b: not built"; continue; }
	"$bin" 127.0.0.1:0 > "$TMP/$b.out" 2>&1 &
	GPID=$!; PIDS_TO_KILL+=("$GPID")
	wait_for "$TMP/$b.out" '^ready' 10 || { fail "$b: did not start"; continue; }
	url=http://127.0.0.1:$(awk '/^ready/ { print $3 }' "$TMP/$b.out")
	old_rate=$(curl -sf "$url/stats" | jq .profile_rate)
	start_memsight "$TMP/$b.json" "$TMP/$b.err" top -p "$GPID" -d 0 -n 0 --json \
		--go-sample-bytes $RATE || { fail "$b: memsight did not attach"; kill "$GPID"; continue; }
	# N of each leak; one curl each, so one connection (its URL glob runs them in turn)
	for leak in spawn ctx tick cache; do
		curl -sf "$url/$leak?i=[1-$N]" -o /dev/null || fail "$b: /$leak failed"
	done
	# two forced GCs: the second publishes the heap profile of the first
	curl -sf "$url/gc" > /dev/null
	curl -sf "$url/gc" > "$TMP/$b.gc"
	curl -sf "$url/stats" > "$TMP/$b.stats"
	kill -INT "$MPID"
	wait "$MPID"; rc=$?
	after_rate=$(curl -sf "$url/stats" | jq .profile_rate)
	kill "$GPID"; wait "$GPID" 2>/dev/null
	J=$TMP/$b.json S=$TMP/$b.stats
	PAYLOAD=$(jq .payload_bytes "$S")
	check "$b: memsight exit status" "$rc" 0
	check "$b: service served N of each leak" \
		"$(jq -r '"\(.spawned) \(.kept) \(.ticked) \(.cached)"' "$S")" "$N $N $N $N"
	check "$b: Go version" "$(jq -r .go.version "$J")" "$(jq -r .go_version "$S")"

	g=$(jq .go.goroutines "$J") sg=$(jq .goroutines "$S")
	check "$b: goroutines within 5% of runtime.NumGoroutine ($g vs $sg)" "$(within 5 "$g" "$sg")" yes
	check "$b: goroutines by state add up to the goroutines" \
		"$(jq '[.go.goroutines_by_state[]] | add' "$J")" "$g"
	check "$b: the per-request goroutines by creation site" "$(site_at "$SPAWN_LINE" "$J")" \
		"main.spawnHandler main.go:$SPAWN_LINE $N chan receive"
	check "$b: the timer loop's goroutine by creation site" "$(site_at "$TIMER_LINE" "$J")" \
		"main.main main.go:$TIMER_LINE 1 select"

	for k in inuse_bytes:heap_inuse alloc_bytes:heap_alloc idle_bytes:heap_idle; do
		ours=$(jq ".go.heap.${k%%:*}" "$J") theirs=$(jq ".${k#*:}" "$S")
		check "$b: Go heap ${k%%:*} within 15% of ${k#*:} ($ours vs $theirs)" \
			"$(within 15 "$ours" "$theirs")" yes
	done
	ours=$(jq .go.heap.alloc_bytes "$J") live=$(jq .live_heap "$TMP/$b.gc")
	check "$b: Go heap alloc_bytes within 15% of the live heap after a forced GC ($ours vs $live)" \
		"$(within 15 "$ours" "$live")" yes
	check "$b: GC cycles" "$(jq .go.heap.num_gc "$J")" "$(jq .num_gc "$S")"

	# the linker turned the sampler off (no pprof in the service): memsight turns it on
	got=$(jq -r '"\(.go.sampler) \(.go.sampler_turned_on_by_memsight) \(.go.sample_bytes)"' "$J")
	check "$b: the runtime's sampler, turned on by memsight, MemProfileRate $RATE while attached" \
		"$old_rate $got $(jq .profile_rate "$S")" "0 runtime (mProf_Malloc) true $RATE $RATE"
	check "$b: MemProfileRate back to its old value after detach" "$after_rate" "$old_rate"
	# by stack, as the runtime's own in-use profile (runtime.mbuckets) has it
	# after the two GCs: N payloads held under each of the two heap leaks
	for f in main.keepContext main.cacheHandler; do
		got=$(first_app_frame_sum go-heap inuse_bytes "$f" "$J")
		check "$b: Go heap in use under $f ~ $N x $PAYLOAD B within 15% ($got)" \
			"$(within 15 "$got" $((N * PAYLOAD)))" yes
	done
	# by stack, as memsight's probe on the sampler saw them since attach
	# (from go1.23 on runtime.mProf_Malloc(mp, p, size) has the size third)
	coll=$(jq .events.stack_collisions "$J")
	for f in main.keepContext main.cacheHandler; do
		got=$(first_app_frame_sum go alloc_bytes "$f" "$J")
		if [ "$coll" = 0 ]; then
			check "$b: sampled Go allocations under $f ~ $N x $PAYLOAD B within 15% ($got)" \
				"$(within 15 "$got" $((N * PAYLOAD)))" yes
		else
			# a stack that lost its stack-table slot to another is not counted:
			# then memsight must say its figures are lower bounds
			ok=$(awk -v a="$got" -v t=$((N * PAYLOAD)) 'BEGIN { print (a <= 1.15 * t) ? "yes" : "no" }')
			check "$b: $coll stack collisions: lower bound said, $f at most $N x $PAYLOAD B + 15% ($got)" \
				"$(jq .events.lower_bound "$J") $ok" "true yes"
			# evidence for the next look (seen once: 5935761 B under keepContext)
			[ "$ok" = yes ] || jq -c --arg f "$f" '.stacks[] | select(.kind == "go") |
				select([.frames[].func // "" | select(startswith("runtime.") | not)][0] == $f) |
				{alloc_bytes, alloc_count, inuse_bytes, frames: [.frames[:8][] | "\(.func) \(.line)"]}' "$J"
		fi
	done
done
