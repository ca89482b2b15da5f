#!/bin/bash
# Claims (issue "Go release binaries"), on Debian 12's stripped Go services
# as the distro ships them (scripts/deps.sh installs them; they are started
# here by hand, on loopback ports of their own, with data in $TMP):
# prometheus 2.42 and etcd 3.4 (both go1.19.8). memsight reports their Go
# release, goroutines within 5% of the runtime's own SIGQUIT dump, a
# creation-site group for the HTTP connections held open to them, the live
# heap after the last GC within 15% of gctrace, the runtime's own sampler;
# and the heap within 15% of their own /metrics (go_memstats_*).
# See tests/bpf/gorel.sh for each cell's rule. Ends with the table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gorel.sh"

gorel_list || { fail "cannot list the Go release binaries"; exit 1; }

run_prometheus() {
	local name=$1 truth=$2 bin=$3 port pid
	port=$(free_port) || { fail "$name: no free port"; return; }
	mkdir -p "$TMP/prometheus"
	# no scrape target: nothing but our requests changes its goroutines
	printf 'global:\n  scrape_interval: 1h\n' > "$TMP/prometheus/prometheus.yml"
	# its stderr holds the runtime's output only (gctrace, the SIGQUIT dump):
	# the runtime writes a gctrace line a piece per write(2), and a log line
	# written meanwhile split one (CI: "4 vs gc none"); etcd logs to a file
	GODEBUG=gctrace=1 GOTRACEBACK=all "$bin" --config.file="$TMP/prometheus/prometheus.yml" \
		--storage.tsdb.path="$TMP/prometheus/data" --web.listen-address="127.0.0.1:$port" \
		--log.level=error \
		> "$TMP/$name.out" 2> "$TMP/$name.err" &
	pid=$!; PIDS_TO_KILL+=("$pid")
	wait_http "$pid" "http://127.0.0.1:$port/-/ready" 60 || { fail "$name: not ready"; return; }
	hold_conns "$port" /-/healthy || { fail "$name: cannot hold connections"; return; }
	sleep 0.5
	gorel_measure "$name" "$truth" "$pid" "$TMP/$name.err" "http://127.0.0.1:$port/metrics" \
		"heap_alloc heap_inuse"
}

run_etcd() {
	local name=$1 truth=$2 bin=$3 cport pport pid i
	cport=$(free_port) && pport=$(free_port) || { fail "$name: no free port"; return; }
	[ "$cport" = "$pport" ] && { fail "$name: one port picked twice"; return; }
	GODEBUG=gctrace=1 GOTRACEBACK=all "$bin" --name memsight --data-dir "$TMP/etcd" \
		--logger=zap --log-outputs="$TMP/$name.log" \
		--listen-client-urls "http://127.0.0.1:$cport" \
		--advertise-client-urls "http://127.0.0.1:$cport" \
		--listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "memsight=http://127.0.0.1:$pport" \
		> "$TMP/$name.out" 2> "$TMP/$name.err" &
	pid=$!; PIDS_TO_KILL+=("$pid")
	wait_http "$pid" "http://127.0.0.1:$cport/health" 60 || { fail "$name: not healthy"; return; }
	# some keys through its HTTP gateway, so that it has a heap to show
	for ((i = 0; i < 200; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$cport/v3/kv/put" \
			-d "{\"key\": \"$(printf 'k%04d' $i | base64)\", \"value\": \"$(head -c 3000 /dev/zero | base64 -w0)\"}" ||
			{ fail "$name: put refused"; return; }
	done
	hold_conns "$cport" /health || { fail "$name: cannot hold connections"; return; }
	sleep 0.5
	# its heap_alloc is shown only: rendering /metrics allocates some 15% of
	# its small heap after the figure is taken
	gorel_measure "$name" "$truth" "$pid" "$TMP/$name.err" "http://127.0.0.1:$cport/metrics" \
		heap_inuse
}

t0=$(date +%s)
while read -r -u 3 name kind truth bin; do
	case $kind in
	prometheus) run_prometheus "$name" "$truth" "$bin" ;;
	etcd) run_etcd "$name" "$truth" "$bin" ;;
	esac
done 3< "$GOREL_LIST"
gorel_table
echo "t_go_distro: $(( $(date +%s) - t0 )) s"
