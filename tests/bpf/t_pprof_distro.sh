#!/bin/bash
# Claims (issue 19, acceptance on software not written here): memsightd
# watching Debian's prometheus (2.42) and etcd (3.4, --enable-pprof), both
# go1.19.8 and stripped, started by hand on loopback ports, 20 keep-alive
# connections held open to each, serves profiles that agree with each one's
# own net/http/pprof, read with the Makefile's `go tool pprof`:
# - goroutine?pid=N: per creation site, exactly the count of "created by"
#   lines in the program's own goroutine?debug=2 (past the 20 sites memsightd
#   keeps, its "[other creation sites]" is the sum of the others, as for
#   etcd), and in all exactly its
#   debug=1 total, once the goroutines serving that request are taken off
#   (net/http.(*Server).Serve's connection goroutine and its
#   net/http.(*connReader).startBackgroundRead: memsightd's profile is read
#   first, with no request in flight to the program; the main goroutine,
#   which has no "created by", is memsightd's runtime.main);
# - heap?pid=N: its go-heap samples (the runtime's own sampled buckets,
#   read from the process's memory) hold exactly the inuse_space and
#   inuse_objects of the program's own /debug/pprof/heap, with the same top
#   functions: both are the runtime's buckets as of the last completed GC,
#   scaled up the same way (memsight's unsampling is Go's), so they are equal
#   unless a GC cycle ends between the two reads;
# the programs' goroutines and GCs can change between the two reads of a
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

MPORT=$((20000 + $$ % 5000 + 41))
printf '[daemon]\nsnapshot_interval_s = 1\n[metrics]\nlisten = 127.0.0.1:%s\n[incidents]\ndir = %s\n' \
	"$MPORT" "$TMP/incidents" > "$TMP/memsightd.conf"
U=http://127.0.0.1:$MPORT/debug/pprof
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
GOREL_CONNS=20

# "COUNT SITE" lines, sorted: memsightd's (go tool pprof -top of its profile)
ms_sites() {
	pprof -top -nodecount=100000 "$1" |
		awk '/^ *flat / { t = 1; next } t && NF >= 6 { n = $6; for (i = 7; i <= NF; i++) n = n " " $i; print $1, n }' |
		sort -k2
}
# the program's own debug=2 ($1), less the goroutines serving that request;
# memsightd keeps 20 sites and counts the rest as one "[other creation
# sites]": when its list ($2) has that line, the sites it did not keep are
# summed into it
OTHER="[other creation sites]"
own_sites() {
	awk -v other="$OTHER" '
	     FNR == NR { k = substr($0, index($0, " ") + 1); kept[k] = 1; if (k == other) fold = 1; next }
	     /^goroutine [0-9]+ / { if (g && !c) n["runtime.main"]++; g = 1; c = 0 }
	     /^created by / { c = 1; s = $3; n[s]++ }
	     END { if (g && !c) n["runtime.main"]++
		   n["net/http.(*Server).Serve"]--; n["net/http.(*connReader).startBackgroundRead"]--
		   for (s in n) {
			if (!n[s]) continue
			if (fold && !(s in kept)) { n[other] += n[s]; continue }
			out[s] = n[s]
		   }
		   if (fold) out[other] = n[other]
		   for (s in out) print out[s], s }' "$2" "$1" | sort -k2
}
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

# compare NAME PID OWN_PPROF_URL: the claims above for one program
compare() {
	local name=$1 pid=$2 own=$3 d=$TMP/$1 attempt ms_total own_total ms own
	mkdir -p "$d"
	"$MS" attach "$pid" > /dev/null
	check "$name watched" "$(wait_watched "$pid" yes 20 && echo yes)" yes
	sleep 1.5	# the index, published at a snapshot
	check "$name: go tool pprof reads memsightd's goroutine profile from the URL" \
		"$(pprof -top "$U/goroutine?pid=$pid" | grep -c '^Type: goroutine')" 1
	check "$name: go tool pprof reads memsightd's heap profile from the URL" \
		"$(pprof -top -sample_index=inuse_space "$U/heap?pid=$pid" | grep -c '^Type: inuse_space')" 1

	for attempt in 1 2 3; do
		curl -sf -o "$d/ms-g.pb.gz" "$U/goroutine?pid=$pid"
		curl -sf -o "$d/own-g2.txt" "$own/goroutine?debug=2"
		curl -sf -o "$d/own-g1.txt" "$own/goroutine?debug=1"
		ms_sites "$d/ms-g.pb.gz" > "$d/ms-sites"
		own_sites "$d/own-g2.txt" "$d/ms-sites" > "$d/own-sites"
		ms_total=$(awk '{ s += $1 } END { print s + 0 }' "$d/ms-sites")
		own_total=$(($(sed -n 's/^goroutine profile: total //p' "$d/own-g1.txt") - 2))
		cmp -s "$d/ms-sites" "$d/own-sites" && [ "$ms_total" = "$own_total" ] && break
		echo "$name goroutines, attempt $attempt: memsightd (<) and its own (>) differ:" >&2
		diff "$d/ms-sites" "$d/own-sites" >&2
		echo "totals: memsightd $ms_total, its own debug=1 less 2: $own_total" >&2
	done
	check "$name goroutines: memsightd's sites and counts are its own \"created by\" (debug=2)" \
		"$(diff "$d/ms-sites" "$d/own-sites" > /dev/null && echo same)" same
	echo "$name: $(grep -vcF "$OTHER" "$d/ms-sites") sites kept," \
		"$(awk -v o="$OTHER" 'substr($0, index($0, " ") + 1) == o { n = $1 } END { print n + 0 }' "$d/ms-sites") goroutines in \"$OTHER\""
	check "$name: ... in all, its debug=1 total (less the request's 2)" "$ms_total" "$own_total"
	check "$name: ... the 20 held connections at net/http.(*Server).Serve, among more than 10 sites" \
		"$(awk '$2 == "net/http.(*Server).Serve" { print $1 }' "$d/ms-sites")/$([ "$(wc -l < "$d/ms-sites")" -gt 10 ] && echo many)" \
		20/many
	echo "$name: goroutines by creation site (memsightd):"
	cat "$d/ms-sites"

	for attempt in 1 2 3; do
		curl -sf -o "$d/ms-h.pb.gz" "$U/heap?pid=$pid"
		curl -sf -o "$d/own-h.pb.gz" "$own/heap"
		ms=$(raw_sum "$d/ms-h.pb.gz" go-heap)
		own=$(raw_sum "$d/own-h.pb.gz")
		[ "$ms" = "$own" ] && break
		echo "$name heap, attempt $attempt: memsightd's go-heap '$ms', its own '$own' (bytes objects)" >&2
	done
	check "$name heap: memsightd's go-heap inuse bytes and objects are its own" "$ms" "$own"
	check "$name: ... and not nothing (over 1 MB)" "$([ "${own%% *}" -gt 1000000 ] && echo yes)" yes
	check "$name: ... the same top 5 functions by inuse_space" \
		"$(top_names "$d/ms-h.pb.gz" -tagfocus=kind=go-heap)" "$(top_names "$d/own-h.pb.gz")"
	check "$name: go tool pprof reads the whole of memsightd's heap profile without an error" \
		"$("$GO" tool pprof -symbolize=none -top "$d/ms-h.pb.gz" > /dev/null 2>&1; echo $?)" 0
	echo "$name: heap in use (bytes objects): memsightd go-heap $ms, its own $own"
}

# ---- prometheus: no scrape target, so only our requests change it ----------
PORT=$(free_port) || { fail "no free port"; exit 0; }
mkdir -p "$TMP/prometheus"
printf 'global:\n  scrape_interval: 1h\n' > "$TMP/prometheus/prometheus.yml"
"$PROM" --config.file="$TMP/prometheus/prometheus.yml" --storage.tsdb.path="$TMP/prometheus/data" \
	--web.listen-address="127.0.0.1:$PORT" > "$TMP/prom.log" 2>&1 &
PP=$!
PIDS_TO_KILL+=("$PP")
if wait_http "$PP" "http://127.0.0.1:$PORT/-/ready" 60 && hold_conns "$PORT" /-/healthy; then
	compare prometheus "$PP" "http://127.0.0.1:$PORT/debug/pprof"
else
	fail "prometheus not ready, or its connections not held"
fi
close_conns

# ---- etcd: one member, its pprof on the client URL -----------------------------
ETCD=/usr/bin/etcd
if [ -x "$ETCD" ]; then
	CPORT=$(free_port) && EPORT=$(free_port) || { fail "etcd: no free port"; exit 0; }
	[ "$CPORT" != "$EPORT" ] || { fail "etcd: one port picked twice"; exit 0; }
	"$ETCD" --name memsight --data-dir "$TMP/etcd" --enable-pprof \
		--listen-client-urls "http://127.0.0.1:$CPORT" --advertise-client-urls "http://127.0.0.1:$CPORT" \
		--listen-peer-urls "http://127.0.0.1:$EPORT" --initial-advertise-peer-urls "http://127.0.0.1:$EPORT" \
		--initial-cluster "memsight=http://127.0.0.1:$EPORT" > "$TMP/etcd.log" 2>&1 &
	EP=$!
	PIDS_TO_KILL+=("$EP")
	if wait_http "$EP" "http://127.0.0.1:$CPORT/health" 60 && hold_conns "$CPORT" /health; then
		compare etcd "$EP" "http://127.0.0.1:$CPORT/debug/pprof"
	else
		fail "etcd not healthy, or its connections not held"
	fi
	close_conns
else
	fail "no $ETCD (make deps installs etcd-server)"
fi
exit 0
