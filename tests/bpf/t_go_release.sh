#!/bin/bash
# Claims (issue "Go release binaries"), on stripped, static Go programs as
# their authors ship them, one per Go minor 1.19..1.27 that they are built
# with (tests/fixtures/gorelease.sh: esbuild from npm for 1.19, 1.20, 1.22,
# 1.23, 1.25, 1.26; the Prometheus Pushgateway built -s -w by go1.27.4):
# memsight reports the Go release the binary was built with, goroutines
# within 5% of the runtime's own SIGQUIT dump, a creation-site group for
# net/http's connection goroutines, the live heap after the last GC within
# 15% of the runtime's gctrace, and the runtime's own sampler rather than a
# probe on every mallocgc (see tests/bpf/gorel.sh for each cell's rule).
# Ends with the table of all cells.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gorel.sh"

gorel_list || { fail "cannot fetch the Go release binaries"; exit 1; }

# esbuild bundles this on every request of /app.js (serve mode) and keeps
# the parsed modules for the next build: a live heap of some 14 MiB, a
# size gctrace's whole MiB can check to 15%
mkdir -p "$TMP/app"
awk 'BEGIN { for (i = 0; i < 3000; i++)
	printf "export function f%d(a, b) { const o = { k%d: a + %d, s: \"s%d\" + b }; return o.k%d * 2 + o.s.length; }\n", i, i, i, i, i }' \
	> "$TMP/app/app.js"
# serve mode lives as long as its stdin: a FIFO this shell holds open
mkfifo "$TMP/stdin"
exec {HOLD_STDIN}<>"$TMP/stdin"

# the Pushgateway's heap: groups of pushed series it keeps
for ((i = 0; i < 20000; i++)); do
	echo "memsight_test_series_$((i % 200)){instance=\"i$i\"} $i"
done > "$TMP/push.txt"

run_esbuild() {
	local name=$1 truth=$2 bin=$3 port pid i
	port=$(free_port) || { fail "$name: no free port"; return; }
	# --log-level=warning: esbuild logs each request to stderr, where the
	# runtime writes its gctrace lines and SIGQUIT dump a piece per write: a
	# request logged during a GC split that GC's line (CI: "6 vs gc none")
	(cd "$TMP/app" && GODEBUG=gctrace=1 GOTRACEBACK=all exec "$bin" app.js --bundle \
		--outdir=out --log-level=warning "--serve=127.0.0.1:$port") <&"$HOLD_STDIN" \
		> "$TMP/$name.out" 2> "$TMP/$name.err" &
	pid=$!; PIDS_TO_KILL+=("$pid")
	# the first request builds, the next ones rebuild from the cache
	if ! wait_http "$pid" "http://127.0.0.1:$port/app.js" 60; then
		# evidence: did it die (a port taken meanwhile?) or not answer in time
		fail "$name: serve did not answer ($(kill -0 "$pid" 2>/dev/null && echo "still running after 60 s" ||
			echo "exited"): $(tail -c 300 "$TMP/$name.err" | tr '\n' ' '))"
		return
	fi
	for ((i = 0; i < 3; i++)); do curl -sf -o /dev/null "http://127.0.0.1:$port/app.js"; done
	hold_conns "$port" / || { fail "$name: cannot hold connections"; return; }
	sleep 0.5
	gorel_measure "$name" "$truth" "$pid" "$TMP/$name.err"
}

run_pushgateway() {
	local name=$1 truth=$2 bin=$3 port pid i
	port=$(free_port) || { fail "$name: no free port"; return; }
	GODEBUG=gctrace=1 GOTRACEBACK=all "$bin" "--web.listen-address=127.0.0.1:$port" \
		> "$TMP/$name.out" 2> "$TMP/$name.err" &
	pid=$!; PIDS_TO_KILL+=("$pid")
	wait_http "$pid" "http://127.0.0.1:$port/-/ready" 30 || { fail "$name: not ready"; return; }
	for ((i = 0; i < 5; i++)); do
		curl -sf -o /dev/null --data-binary "@$TMP/push.txt" \
			"http://127.0.0.1:$port/metrics/job/memsight/group/g$i" || { fail "$name: push refused"; return; }
	done
	hold_conns "$port" /-/healthy || { fail "$name: cannot hold connections"; return; }
	sleep 0.5
	# not against its own /metrics: serving it renders every pushed series,
	# which moves the heap more than the 15% a comparison could allow
	gorel_measure "$name" "$truth" "$pid" "$TMP/$name.err"
}

t0=$(date +%s)
while read -r -u 3 name kind truth bin; do
	case $kind in
	esbuild) run_esbuild "$name" "$truth" "$bin" ;;
	pushgateway) run_pushgateway "$name" "$truth" "$bin" ;;
	esac
done 3< "$GOREL_LIST"
gorel_table
echo "t_go_release: $(( $(date +%s) - t0 )) s"
