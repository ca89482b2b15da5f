#!/bin/bash
# Claims (issue 19, acceptance on software not written here): memsightd
# watching Debian's prometheus (2.42, go1.19.8, stripped; started by hand on
# a loopback port with no scrape target, 20 keep-alive connections held
# open to it) serves profiles that agree with prometheus's own
# net/http/pprof, read with the Makefile's `go tool pprof`:
# - goroutine?pid=N: per creation site, exactly the count of "created by"
#   lines in prometheus's own goroutine?debug=2, and in all exactly its
#   debug=1 total, once the goroutines serving that request are taken off
#   (net/http.(*Server).Serve's connection goroutine and its
#   net/http.(*connReader).startBackgroundRead: memsightd's profile is read
#   first, with no request in flight to prometheus; the main goroutine,
#   which has no "created by", is memsightd's runtime.main);
# - heap?pid=N: its go-heap samples (the runtime's own sampled buckets,
#   read from the process's memory) hold exactly the inuse_space and
#   inuse_objects of prometheus's own /debug/pprof/heap, with the same top
#   functions: both are the runtime's buckets as of the last completed GC,
#   scaled up the same way (memsight's unsampling is Go's), so they are equal
#   unless a GC cycle ends between the two reads;
# prometheus's goroutines and GCs can change between the two reads of a
# pair (~0.1 s apart), so a pair that differs is taken again, at most 3
# times, each attempt's difference printed; the last must agree.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gorel.sh"

: "${GO:=$(sed -n 's/^GO_1_19 ?= *//p' Makefile)}"
[ -x "$GO" ] || { fail "no Go toolchain at '$GO' (make deps installs golang-go)"; exit 0; }
export HOME=$TMP GOCACHE=$TMP/gocache PPROF_TMPDIR=$TMP/pprof GOTOOLCHAIN=local GOFLAGS=
PROM=/usr/bin/prometheus
[ -x "$PROM" ] || { fail "no $PROM (make deps installs prometheus)"; exit 0; }
pprof() { "$GO" tool pprof -symbolize=none "$@" 2>&1; }

PORT=$(free_port) || { fail "no free port"; exit 0; }
mkdir -p "$TMP/prometheus"
printf 'global:\n  scrape_interval: 1h\n' > "$TMP/prometheus/prometheus.yml"
"$PROM" --config.file="$TMP/prometheus/prometheus.yml" --storage.tsdb.path="$TMP/prometheus/data" \
	--web.listen-address="127.0.0.1:$PORT" > "$TMP/prom.log" 2>&1 &
PP=$!
PIDS_TO_KILL+=("$PP")
wait_http "$PP" "http://127.0.0.1:$PORT/-/ready" 60 || { fail "prometheus not ready"; exit 0; }
GOREL_CONNS=20
hold_conns "$PORT" /-/healthy || { fail "cannot hold connections to prometheus"; exit 0; }
OWN=http://127.0.0.1:$PORT/debug/pprof

MPORT=$((20000 + $$ % 5000 + 41))
printf '[daemon]\nsnapshot_interval_s = 1\n[metrics]\nlisten = 127.0.0.1:%s\n[incidents]\ndir = %s\n' \
	"$MPORT" "$TMP/incidents" > "$TMP/memsightd.conf"
U=http://127.0.0.1:$MPORT/debug/pprof
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
"$MS" attach "$PP" > /dev/null
check "prometheus watched" "$(wait_watched "$PP" yes 20 && echo yes)" yes
sleep 1.5	# the index, published at a snapshot

check "go tool pprof reads memsightd's goroutine profile of prometheus from the URL" \
	"$(pprof -top "$U/goroutine?pid=$PP" | grep -c '^Type: goroutine')" 1
check "go tool pprof reads memsightd's heap profile of prometheus from the URL" \
	"$(pprof -top -sample_index=inuse_space "$U/heap?pid=$PP" | grep -c '^Type: inuse_space')" 1

# ---- goroutines by creation site ---------------------------------------
# "COUNT SITE" lines, sorted: memsightd's (go tool pprof -top of its profile)
ms_sites() {
	pprof -top -nodecount=100000 "$1" |
		awk '/^ *flat / { t = 1; next } t && NF >= 6 { n = $6; for (i = 7; i <= NF; i++) n = n " " $i; print $1, n }' |
		sort -k2
}
# prometheus's own debug=2, less the goroutines serving that request
own_sites() {
	awk '/^goroutine [0-9]+ / { if (g && !c) n["runtime.main"]++; g = 1; c = 0 }
	     /^created by / { c = 1; s = $3; n[s]++ }
	     END { if (g && !c) n["runtime.main"]++
		   n["net/http.(*Server).Serve"]--; n["net/http.(*connReader).startBackgroundRead"]--
		   for (s in n) if (n[s]) print n[s], s }' "$1" | sort -k2
}
for attempt in 1 2 3; do
	curl -sf -o "$TMP/ms-g.pb.gz" "$U/goroutine?pid=$PP"
	curl -sf -o "$TMP/own-g2.txt" "$OWN/goroutine?debug=2"
	curl -sf -o "$TMP/own-g1.txt" "$OWN/goroutine?debug=1"
	ms_sites "$TMP/ms-g.pb.gz" > "$TMP/ms-sites"
	own_sites "$TMP/own-g2.txt" > "$TMP/own-sites"
	ms_total=$(awk '{ s += $1 } END { print s + 0 }' "$TMP/ms-sites")
	own_total=$(($(sed -n 's/^goroutine profile: total //p' "$TMP/own-g1.txt") - 2))
	cmp -s "$TMP/ms-sites" "$TMP/own-sites" && [ "$ms_total" = "$own_total" ] && break
	echo "goroutines, attempt $attempt: memsightd (<) and prometheus's own (>) differ:" >&2
	diff "$TMP/ms-sites" "$TMP/own-sites" >&2
	echo "totals: memsightd $ms_total, its own debug=1 less 2: $own_total" >&2
done
check "goroutines: memsightd's sites and counts are prometheus's own \"created by\" (debug=2)" \
	"$(diff "$TMP/ms-sites" "$TMP/own-sites" > /dev/null && echo same)" same
check "... in all, its debug=1 total (less the request's 2)" "$ms_total" "$own_total"
check "... over several sites, the 20 held connections at net/http.(*Server).Serve" \
	"$(wc -l < "$TMP/ms-sites")/$(awk '$2 == "net/http.(*Server).Serve" { print $1 }' "$TMP/ms-sites")" \
	"$(wc -l < "$TMP/ms-sites")/20"
check "... with more than 10 sites" "$([ "$(wc -l < "$TMP/ms-sites")" -gt 10 ] && echo yes)" yes
cat "$TMP/ms-sites"

# ---- the heap -------------------------------------------------------------
# "INUSE_BYTES INUSE_OBJECTS" of a profile's samples (go -raw), those with
# label kind go-heap only when $2 is set
raw_sum() {
	pprof -raw "$1" | awk -v want="$2" '
		/^ +-?[0-9]+ +-?[0-9]+ +-?[0-9]+ +-?[0-9]+:/ { o = $3; b = $4 + 0; if (!want) { B += b; O += o } }
		want && /kind:\[go-heap\]/ { B += b; O += o }
		END { print B + 0, O + 0 }'
}
top_names() {
	pprof -top -nodecount=5 -sample_index=inuse_space "${@:2}" "$1" |
		awk '/^ *flat / { t = 1; next } t { print $6 }' | tr '\n' ' '
}
for attempt in 1 2 3; do
	curl -sf -o "$TMP/ms-h.pb.gz" "$U/heap?pid=$PP"
	curl -sf -o "$TMP/own-h.pb.gz" "$OWN/heap"
	ms=$(raw_sum "$TMP/ms-h.pb.gz" go-heap)
	own=$(raw_sum "$TMP/own-h.pb.gz")
	[ "$ms" = "$own" ] && break
	echo "heap, attempt $attempt: memsightd's go-heap '$ms', prometheus's own '$own' (bytes objects)" >&2
done
check "heap: memsightd's go-heap inuse bytes and objects are prometheus's own" "$ms" "$own"
check "... and not nothing (over 1 MB)" "$([ "${own%% *}" -gt 1000000 ] && echo yes)" yes
check "... the same top 5 functions by inuse_space" \
	"$(top_names "$TMP/ms-h.pb.gz" -tagfocus=kind=go-heap)" "$(top_names "$TMP/own-h.pb.gz")"
check "go tool pprof reads the whole of memsightd's heap profile without an error (exit 0)" \
	"$("$GO" tool pprof -symbolize=none -top "$TMP/ms-h.pb.gz" > /dev/null 2>&1; echo $?)" 0
echo "heap in use (bytes objects): memsightd go-heap $ms, prometheus's own $own"
close_conns
exit 0
