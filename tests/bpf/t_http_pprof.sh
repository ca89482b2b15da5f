#!/bin/bash
# Claims (issue 19, part 1: pprof over HTTP), against a live memsightd
# watching the bundled leaky and goservice, read with the Makefile's Go
# toolchain's `go tool pprof` straight from the URLs:
# - /debug/pprof/ lists both processes with their profile URLs (goroutine
#   only for the Go one);
# - heap?pid=N: leak_a holds exactly 4,096,000 B in use (1000 objects);
#   allocs?pid=N: the same types, alloc_space by default;
# - goroutine?pid=N of goservice: its leaking `go` statement's site
#   (main.leakHandler) with exactly the count the service reports on /stats;
# - heap?...&seconds=S: only what changed in the window: a second leaky
#   round inside it gives leak_a 4,096,000 B allocated (not the 8,192,000 of
#   both rounds), a quiet window gives nothing; /metrics is answered at once
#   while a delta waits;
# - 16 delta profiles at once are taken, the 17th to 20th get 503;
# - every bad request gets its 4xx and a reason, and the daemon lives on;
# - the pprof worker thread has no capabilities; a daemon stopped with
#   deltas pending answers them (503) or cuts them, and exits 0.
. "$(dirname "$0")/lib.sh"

# the Makefile's Go, never whatever `go` is first in PATH
: "${GO:=$(sed -n 's/^GO_1_19 ?= *//p' Makefile)}"
[ -x "$GO" ] || { fail "no Go toolchain at '$GO' (make deps installs golang-go)"; exit 0; }
export HOME=$TMP GOCACHE=$TMP/gocache PPROF_TMPDIR=$TMP/pprof GOTOOLCHAIN=local GOFLAGS=
pprof() { "$GO" tool pprof -symbolize=none "$@" 2>&1; }
# code URL: the HTTP status of a GET, its body in $TMP/body
code() { curl -s -o "$TMP/body" -w '%{http_code}' "$1"; }

MPORT=$((20000 + $$ % 5000 + 23))
cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
[metrics]
listen = 127.0.0.1:$MPORT
CONF
U=http://127.0.0.1:$MPORT/debug/pprof
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/l.out" || { fail "leaky did not start"; exit 0; }
LPID=$TPID
GPORT=$((25000 + $$ % 5000 + 23))
start_target "$O/tests/targets/goservice" "$TMP/g.out" "127.0.0.1:$GPORT" ||
	{ fail "goservice did not start"; exit 0; }
GPID=$TPID
"$MS" attach "$LPID" > /dev/null
"$MS" attach "$GPID" > /dev/null
check "leaky watched" "$(wait_watched "$LPID" yes 10 && echo yes)" yes
check "goservice watched" "$(wait_watched "$GPID" yes 10 && echo yes)" yes
kill -USR1 "$LPID"
wait_for "$TMP/l.out" '^done' 30 || { fail "leaky did not leak"; exit 0; }

# the index (published at each snapshot: one second)
sleep 1.5
check "index: 200" "$(code "$U/")" 200
check "index: leaky with heap and allocs, no goroutine" \
	"$(grep -P "^$LPID\tleaky\t" "$TMP/body")" \
	"$(printf '%s\tleaky\t/debug/pprof/heap?pid=%s /debug/pprof/allocs?pid=%s' "$LPID" "$LPID" "$LPID")"
check "index: goservice with its goroutine profile too" \
	"$(grep -P "^$GPID\tgoservice\t" "$TMP/body" | grep -c "/debug/pprof/goroutine?pid=$GPID\$")" 1

# heap: leak_a's exact bytes and objects, read by go tool pprof from the URL
pprof -top -unit=B -sample_index=inuse_space "$U/heap?pid=$LPID" > "$TMP/heap.txt"
check "heap: Type inuse_space" "$(grep -c '^Type: inuse_space$' "$TMP/heap.txt")" 1
check "heap: leak_a in use" \
	"$(awk '$6 == "leak_a" {print $1}' "$TMP/heap.txt")" 4096000B
check "heap: leak_a objects in use" \
	"$(pprof -top -sample_index=inuse_objects "$U/heap?pid=$LPID" | awk '$6 == "leak_a" {print $1}')" 1000
check "heap: served as profile.proto, gzip'd" \
	"$(curl -s "$U/heap?pid=$LPID" | head -c 2 | od -An -tx1 | tr -d ' ')" 1f8b
check "heap: Content-Type" \
	"$(curl -s -o /dev/null -w '%{content_type}' "$U/heap?pid=$LPID")" application/octet-stream

# allocs
pprof -top -unit=B "$U/allocs?pid=$LPID" > "$TMP/allocs.txt"
check "allocs: Type alloc_space by default" "$(grep -c '^Type: alloc_space$' "$TMP/allocs.txt")" 1
check "allocs: leak_a allocated" "$(awk '$6 == "leak_a" {print $1}' "$TMP/allocs.txt")" 4096000B
check "allocs: churn allocated and freed more than it holds" \
	"$(awk '$6 == "churn" {sub(/B$/, "", $1); print ($1 > 10485760) ? "yes" : "no"}' "$TMP/allocs.txt")" yes

# goroutines of the Go service: its leaking site with the count /stats gives
curl -sf "http://127.0.0.1:$GPORT/leak?r=[1-30]" > /dev/null
N=$(curl -sf "http://127.0.0.1:$GPORT/stats" | jq .leaked)
check "goservice leaked its goroutines" "$N" 30
pprof -top "$U/goroutine?pid=$GPID" > "$TMP/goroutine.txt"
check "goroutine: Type goroutine" "$(grep -c '^Type: goroutine$' "$TMP/goroutine.txt")" 1
check "goroutine: main.leakHandler's go statement has what /stats reports leaked" \
	"$(awk '$6 == "main.leakHandler" {print $1}' "$TMP/goroutine.txt")" "$N"
pprof -traces "$U/goroutine?pid=$GPID" > "$TMP/traces.txt"
check "goroutine: its goroutines wait (label state), on a channel" \
	"$(awk '/state:/ {s = $2} /most_common_wait_reason:/ {w = $2 " " $3} $2 == "main.leakHandler" {print s, w, $1}' \
	"$TMP/traces.txt" | sort | head -1)" "waiting chan receive $N"
check "goroutine: goservice's heap profile too" \
	"$(pprof -top "$U/heap?pid=$GPID" | grep -c '^Type: inuse_space$')" 1

# a delta over 4 s with a second leaky round inside it: sent once memsightd
# says the first profile is taken (stats), and the round takes well under a
# second, so it ends before the second profile
pprof -top -unit=B -nodefraction=0 -sample_index=alloc_space "$U/heap?pid=$LPID&seconds=4" \
	> "$TMP/delta.txt" &
DELTA=$!
for _ in $(seq 500); do
	[ "$("$MS" stats -j | jq .pprof_deltas_waiting)" = 1 ] && break
	sleep 0.02
done
check "stats: the delta's first profile is taken" "$("$MS" stats -j | jq -c '[.pprof_requests_open, .pprof_deltas_waiting]')" "[1,1]"
t0=$(date +%s%N)
curl -s -o /dev/null -m 3 "http://127.0.0.1:$MPORT/metrics"
t1=$(date +%s%N)
check "metrics answered while a delta waits (< 1 s)" "$((t1 - t0 < 1000000000))" 1
kill -USR1 "$LPID"
wait_for_n "$TMP/l.out" '^done' 2 10
wait "$DELTA"
check "delta: 4 s" "$(grep -c '^Duration: 4' "$TMP/delta.txt")" 1
check "delta: leak_a's second round only" "$(awk '$6 == "leak_a" {print $1}' "$TMP/delta.txt")" 4096000B
check "delta: leak_b's too" "$(awk '$6 == "leak_b" {print $1}' "$TMP/delta.txt")" 50000B
check "heap now: both rounds of leak_a in use" \
	"$(pprof -top -unit=B -sample_index=inuse_space "$U/heap?pid=$LPID" | awk '$6 == "leak_a" {print $1}')" 8192000B
pprof -top -unit=B -sample_index=alloc_space "$U/heap?pid=$LPID&seconds=1" > "$TMP/quiet.txt"
check "delta over a quiet second: nothing" "$(grep -c 'Total samples = 0B\? *$' "$TMP/quiet.txt")" 1

# 20 deltas at once: 16 are taken, the others are told to come back
MANY=()
for i in $(seq 20); do
	curl -s -o /dev/null -m 20 -w '%{http_code}\n' "$U/heap?pid=$LPID&seconds=2" > "$TMP/many.$i" &
	MANY+=($!)
done
wait "${MANY[@]}"
check "20 deltas at once: 16 answered" "$(cat "$TMP"/many.* | grep -c '^200$')" 16
check "20 deltas at once: 4 get 503" "$(cat "$TMP"/many.* | grep -c '^503$')" 4

# bad requests: status and reason
bad() {	# NAME URL STATUS REGEX
	local got
	got=$(code "$2")
	check "$1: $3" "$got" "$3"
	check_cmd "$1: says why" grep -qE "$4" "$TMP/body"
}
sleep 100 & OTHER=$!; PIDS_TO_KILL+=("$OTHER")
bad "no pid" "$U/heap" 400 'add \?pid=PID'
bad "pid not a number" "$U/heap?pid=abc" 400 'invalid pid'
bad "pid 0" "$U/heap?pid=0" 400 'invalid pid'
bad "negative pid" "$U/allocs?pid=-5" 400 'invalid pid'
bad "pid past INT_MAX" "$U/heap?pid=99999999999" 400 'invalid pid'
bad "pid with a space" "$U/heap?pid=1%202" 400 'invalid pid'
bad "unwatched pid" "$U/heap?pid=$OTHER" 404 "PID $OTHER is not watched"
bad "seconds=0" "$U/heap?pid=$LPID&seconds=0" 400 '"seconds": a whole number, 1 to 300'
bad "seconds=301" "$U/heap?pid=$LPID&seconds=301" 400 '"seconds": a whole number, 1 to 300'
bad "seconds=1.5" "$U/allocs?pid=$LPID&seconds=1.5" 400 '"seconds"'
bad "debug=1" "$U/heap?pid=$LPID&debug=1" 400 'only debug=0'
bad "goroutine of a C program" "$U/goroutine?pid=$LPID" 404 "PID $LPID has no goroutine profile: not a Go program"
bad "goroutine delta" "$U/goroutine?pid=$GPID&seconds=2" 400 'not supported for the goroutine profile'
bad "unknown profile" "$U/profile?pid=$LPID" 404 'see /metrics and /debug/pprof/'
check "POST: 405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/heap?pid=$LPID")" 405
kill "$OTHER"

check "the pprof worker thread has no capabilities" \
	"$(for t in /proc/"$DPID"/task/*; do [ "$(cat "$t/comm")" = pprof ] && awk '/^CapEff/ {print $2}' "$t/status"; done)" \
	0000000000000000

# after all that
check "daemon still running" "$(kill -0 "$DPID" 2>/dev/null && echo yes)" yes
check "heap still served" "$(code "$U/heap?pid=$LPID")" 200

# stopping with deltas pending: each is answered 503 or cut, never a panic
for i in 1 2 3; do
	curl -s -o /dev/null -m 20 -w '%{http_code}\n' "$U/heap?pid=$LPID&seconds=30" > "$TMP/stop.$i" &
	STOPS+=($!)
done
sleep 1
kill -TERM "$DPID"
wait "$DPID"
check "daemon stops cleanly with deltas pending (exit status)" "$?" 0
wait "${STOPS[@]}"
check "deltas pending at the stop: answered 503 or cut, none left hanging" \
	"$(cat "$TMP"/stop.* | grep -cE '^(503|000)$')" 3
