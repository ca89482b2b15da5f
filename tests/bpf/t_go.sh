#!/bin/bash
# Claims (issue "Go services"), on an unmodified net/http service that leaks
# 4 KiB per request into a global slice and starts one never-ending
# goroutine per request:
# - after N requests memsight names the leaking handler as the top Go
#   allocator, reports >= N extra goroutines created at the `go` statement's
#   function and line, and Go heap figures within 5% of the service's own;
# - no return probe is ever placed on the Go program: only an entry probe,
#   on the runtime's own sampler (runtime.mProf_Malloc, turned on through
#   runtime.MemProfileRate when the linker had it off) or, with --go-mallocgc
#   on runtime.mallocgc (and then memsight writes nothing into the target);
# - a stripped build (-s -w) still gets names and lines from .gopclntab, its
#   goroutines, wait reasons and the runtime's sampler through runtime globals
#   located from code, puts MemProfileRate back on detach, the Go heap and
#   its goal within 5% too;
# - the same stripped service built with the newest release of the Go matrix
#   (whose mProf_Malloc takes the size as its third argument since 1.23):
#   the leaking handler's allocations are N x 4 KiB within 50%;
# - a minute of deep recursion in 64 goroutines while attached: no crash.
. "$(dirname "$0")/lib.sh"
export HOME=$TMP GOCACHE=$TMP/gocache

N=300
GOVERSION=$(cat "$O/tests/targets/goservice.goversion")
NEWEST=$(tail -1 "$O/fixtures/gomatrix/releases")
GOLINE=$(grep -n 'GOSERVICE-GO-STATEMENT' tests/targets/goservice/main.go | cut -d: -f1)

# uprobe links memsight (PID $1) holds: "prog-name path" per link; a kernel
# without uprobe_multi has perf-event links, whose fdinfo names no path
# (checked then from the attach line)
uprobe_links() {
	local f id path
	for f in /proc/"$1"/fdinfo/*; do
		grep -qE '^link_type:.*(uprobe|perf)' "$f" 2>/dev/null || continue
		id=$(awk '/^prog_id:/ {print $2}' "$f")
		path=$(awk '/^path:/ {print $2}' "$f")
		echo "$(bpftool prog show id "$id" | sed -n 's/.* name \([a-z_]*\) .*/\1/p') ${path:-$2}"
	done
}

for variant in goservice goservice-stripped goservice+mallocgc goservice-newest; do
	bin=${variant%+*}
	binpath=$O/tests/targets/$bin
	goversion=$GOVERSION
	if [ "$variant" = goservice-newest ]; then
		binpath=$O/fixtures/gomatrix/$NEWEST/goservice-stripped
		goversion=$(cat "$O/fixtures/gomatrix/$NEWEST/goversion")
	fi
	extra=()
	[[ $variant == *+mallocgc ]] && extra=(--go-mallocgc)
	PORT=$((25000 + RANDOM % 5000))
	"$binpath" "127.0.0.1:$PORT" > "$TMP/$variant.out" 2>&1 &
	GPID=$!; PIDS_TO_KILL+=("$GPID")
	wait_for "$TMP/$variant.out" '^ready' 10 || { fail "$variant did not start"; continue; }
	start_memsight "$TMP/$variant.json" "$TMP/$variant.err" top -p "$GPID" -d 0 -n 0 --json \
		--go-sample-bytes 16384 "${extra[@]}" || { fail "$variant: memsight did not attach"; continue; }
	uprobe_links "$MPID" "$(sed -n 's/.*: runtime\.[a-zA-Z_]* in \([^ ]*\) (.*/\1/p' "$TMP/$variant.err")" \
		> "$TMP/$variant.links"
	# the runtime's own sampler, also in the stripped build; mallocgc only when asked
	want=ms_go_mprof
	[ "$variant" = goservice+mallocgc ] && want=ms_go_malloc
	check "$variant: one uprobe link, an entry probe ($want)" \
		"$(sort -u "$TMP/$variant.links")" "$want $(readlink -f "$binpath")"
	check "$variant: no return probe on the Go program" "$(grep -c ms_alloc_ret "$TMP/$variant.links")" 0
	for i in $(seq $N); do curl -sf "http://127.0.0.1:$PORT/leak" > /dev/null || break; done
	curl -sf "http://127.0.0.1:$PORT/stats" > "$TMP/$variant.stats"
	kill -INT "$MPID"
	wait "$MPID"; rc=$?
	check "$variant: memsight exit status" "$rc" 0
	J=$TMP/$variant.json
	S=$TMP/$variant.stats
	check "$variant: service served all requests" "$(jq .leaked "$S")" $N
	check "$variant: Go version" "$(jq -r .go.version "$J")" "$goversion"
	# the top Go allocator, named by its first frame outside the runtime
	top=$(jq -r '[.stacks[] | select(.kind == "go")] | sort_by(-.alloc_bytes) | .[0].frames |
		map(select(.func != null and (.func | startswith("runtime.") | not))) | .[0] |
		"\(.func) \(.file | split("/") | last)"' "$J")
	check "$variant: top Go allocator is the leaking handler" "$top" "main.leakHandler main.go"
	# its sampled sizes unsampled: N x 4 KiB (~70 samples at 16 KiB: 50% is > 4 sigma)
	ab=$(jq '[.stacks[] | select(.kind == "go") | select([.frames[] |
		select(.func != null and (.func | startswith("runtime.") | not))][0].func ==
		"main.leakHandler") | .alloc_bytes] | add' "$J")
	check "$variant: the leaking handler allocated $N x 4 KiB within 50% ($ab)" \
		"$(awk -v a="$ab" -v n=$N 'BEGIN { t = n * 4096; d = a - t; if (d < 0) d = -d; print (d <= 0.5 * t) ? "yes" : "no" }')" yes
	if [ "$variant" = goservice ]; then
		check "$variant: runtime sampler turned on (MemProfileRate 16384)" \
			"$(jq .profile_rate "$S") $(jq .go.sampler_turned_on_by_memsight "$J")" "16384 true"
		held=$(jq '[.stacks[] | select(.kind == "go-heap" and .frames[0].func == "main.leakHandler") | .inuse_bytes] | add' "$J")
		check "$variant: runtime's in-use profile holds the leak (~$N x 4 KiB, within 50%: $held)" \
			"$(awk -v a="$held" -v n=$N 'BEGIN { t = n * 4096; d = a - t; if (d < 0) d = -d; print (d <= 0.5 * t) ? "yes" : "no" }')" yes
	fi
	if [ "$variant" = goservice+mallocgc ]; then
		check "$variant: nothing written into the target (MemProfileRate still 0)" "$(jq .profile_rate "$S")" 0
		check_cmd "$variant: says why there is no Go heap profile by stack" \
			jq -e '.go.heap_profile_unavailable | test("linker disabled")' "$J"
	fi
	# goroutines: also in the stripped build, its runtime globals located from code
	g=$(jq .go.goroutines "$J"); sg=$(jq .goroutines "$S")
	check "$variant: >= $N goroutines ($g)" "$([ "$g" -ge $N ] && echo yes)" yes
	check "$variant: goroutines match runtime.NumGoroutine ($g vs $sg)" \
		"$([ $((g - sg)) -ge -2 ] && [ $((g - sg)) -le 2 ] && echo yes)" yes
	check "$variant: creation site of the leaked goroutines" \
		"$(jq -r '.go.goroutines_by_creation_site[0] | "\(.func) \(.file | split("/") | last):\(.line) \(.count >= '$N') \(.wait_reason)"' "$J")" \
		"main.leakHandler main.go:$GOLINE true chan receive"
	# the Go heap: also stripped (gcController located from code)
	keys="heap_inuse:inuse_bytes heap_alloc:alloc_bytes heap_idle_unreleased:idle_unreleased next_gc:next_gc_bytes"
	# the service's /stats and memsight's last read are moments apart (the
	# handler itself allocates): 5%, or 16 pages of an idle heap of ~1 MiB.
	# Idle is compared less what was released: a heap that grows in between
	# maps at least 4 MiB (mheap.grow), which counts as idle and released
	# at once (seen in a loaded guest: idle 5079040 at /stats, 9191424 after)
	jq '.go.heap.idle_unreleased = .go.heap.idle_bytes - .go.heap.released_bytes' "$J" > "$J.2"
	jq '.heap_idle_unreleased = .heap_idle - .heap_released' "$S" > "$S.2"
	for k in $keys; do
		ours=$(jq ".go.heap.${k#*:}" "$J.2"); theirs=$(jq ".${k%%:*}" "$S.2")
		check "$variant: ${k%%:*} within 5% or 128 KiB ($ours vs $theirs)" \
			"$(awk -v a="$ours" -v b="$theirs" 'BEGIN { d = a - b; if (d < 0) d = -d; print (d <= 0.05 * b || d <= 131072) ? "yes" : "no" }')" yes
	done
	check "$variant: GC cycles" "$(jq .go.heap.num_gc "$J")" "$(jq .num_gc "$S")"
	# the heap the last GC marked (test_goproc checks it exactly): there after
	# a GC, and no more than what is allocated now; before one, said why
	check_cmd "$variant: live heap after the last GC, or why not" \
		jq -e '.go.heap | if .num_gc > 0 then (.live_after_last_gc_bytes > 0 and
			.live_after_last_gc_bytes <= .alloc_bytes) else
			(.live_after_last_gc_unavailable | test("no GC")) end' "$J"
	if [ "$variant" = goservice-stripped ] || [ "$variant" = goservice-newest ]; then
		check "$variant: the runtime's sampler turned on, no mallocgc probe" \
			"$(jq -r '"\(.go.sampler) \(.go.sampler_turned_on_by_memsight)"' "$J")" "runtime (mProf_Malloc) true"
		check "$variant: MemProfileRate put back to 0 after detach" \
			"$(curl -sf "http://127.0.0.1:$PORT/stats" | jq .profile_rate)" 0
	fi
	kill "$GPID"
done


# a program that keeps the runtime's heap profile: its in-use stacks (go-heap)
# name the function holding 64 MiB, within 10% (sampled every 16 KiB)
make -s "$O/fixtures/goproc/target" > /dev/null 2>&1
( sleep 30 | GOPROC_MEMPROFILERATE=16384 "$O/fixtures/goproc/target" 10 0 1 64 > "$TMP/gp.out" 2>&1 ) &
wait_for "$TMP/gp.out" '"pid"' 20
GPP=$(jq -r .pid "$TMP/gp.out")
PIDS_TO_KILL+=("$GPP")
"$MS" top -p "$GPP" -d 1 -n 0 --json > "$TMP/gp.json" 2>/dev/null
held=$(jq '[.stacks[] | select(.kind == "go-heap" and .frames[0].func == "main.profiled") | .inuse_bytes] | add' "$TMP/gp.json")
check "go-heap: main.profiled holds 64 MiB within 10% ($held)" \
	"$(awk -v a="$held" 'BEGIN { t = 64 * 1048576; d = a - t; if (d < 0) d = -d; print (d <= 0.1 * t) ? "yes" : "no" }')" yes
kill "$GPP" 2>/dev/null

# stack growth under the probe: a minute, 64 goroutines, deep recursion
"$O/tests/targets/goservice" -stress 60 > "$TMP/stress.out" 2>&1 &
SPID=$!; PIDS_TO_KILL+=("$SPID")
wait_for "$TMP/stress.out" '^ready' 10
start_memsight "$TMP/stress.json" "$TMP/stress.err" top -p "$SPID" -d 90 -n 3 --json --go-sample-bytes 65536
wait "$SPID"; src=$?
check "stress: the Go program finished normally after 60 s attached" "$src $(tail -1 "$TMP/stress.out")" "0 stress done"
wait "$MPID"
check_cmd "stress: memsight sampled its allocations" jq -e '[.stacks[] | select(.kind == "go")] | length > 0' "$TMP/stress.json"

# A probe on the first byte of runtime.mProf_Malloc / mallocgc counted an
# allocation twice when the call went through morestack (its stack-bound
# check failed: a growing stack, or a preemption request) and ran the
# function again from its start. goservice -morestack makes 3000 goroutines,
# each allocating 16 KiB at a depth of 0..599 calls, so that some of those
# checks fail right there (with the probe on the first byte: ~5 of 3000
# counted twice, every run here); MemProfileRate 1 samples every allocation,
# so the count is exact.
MSN=3000
for variant in morestack-$GOVERSION morestack-$NEWEST morestack-mallocgc; do
	binpath=$O/tests/targets/goservice
	extra=()
	[ "$variant" = "morestack-$NEWEST" ] && binpath=$O/fixtures/gomatrix/$NEWEST/goservice-stripped
	[ "$variant" = morestack-mallocgc ] && extra=(--go-mallocgc --go-sample-bytes 1)
	"$binpath" -morestack $MSN > "$TMP/$variant.out" 2>&1 &
	GPID=$!; PIDS_TO_KILL+=("$GPID")
	wait_for "$TMP/$variant.out" '^ready' 10 || { fail "$variant did not start"; continue; }
	start_memsight "$TMP/$variant.json" "$TMP/$variant.err" top -p "$GPID" -d 0 -n 0 --json \
		"${extra[@]}" || { fail "$variant: memsight did not attach"; kill "$GPID"; continue; }
	kill -USR1 "$GPID"
	wait_for "$TMP/$variant.out" '^done' 60 || fail "$variant: target did not finish"
	kill -INT "$MPID"; wait "$MPID"
	kill "$GPID"
	check "$variant: each 16 KiB allocation counted once ($MSN x 16384 B)" \
		"$(jq -c '[.stacks[] | select(.kind == "go" and
			([.frames[].func // "" | select(startswith("runtime.") | not)][0] == "main.morestackLeaf") and
			.alloc_bytes == .alloc_count * 16384)] | [(map(.alloc_count) | add), (map(.alloc_bytes) | add)]' \
			"$TMP/$variant.json")" "[$MSN,$((MSN * 16384))]"
done
