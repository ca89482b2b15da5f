#!/bin/bash
# make demo: start the bundled leaky target, attach memsight to it while it
# runs, let it leak, and show what memsight saw; then write a flame graph and
# a pprof profile of the same target under build/demo/.
set -u
O=${1:-build}
MS=$O/memsight
D=$O/demo
mkdir -p "$D"
if [ "$(id -u)" != 0 ]; then
	echo "memsight demo: needs root (BPF uprobes); try: sudo make demo" >&2
	exit 1
fi

wait_for() {	# FILE REGEX: up to 20 s
	for _ in $(seq 200); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "demo: timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

"$O/tests/targets/leaky" > "$D/target.out" &
TPID=$!
trap 'kill $TPID 2>/dev/null' EXIT
wait_for "$D/target.out" '^ready' || exit 1
echo "demo: started $O/tests/targets/leaky as PID $TPID; it leaks when told to (SIGUSR1)"
echo
echo "\$ memsight top -p $TPID -d 3 -n 4"
"$MS" top -p "$TPID" -d 3 -n 4 2> >(tee "$D/top.err" >&2) &
MPID=$!
wait_for "$D/top.err" 'attached to PID|error' || exit 1
kill -USR1 $TPID
wait $MPID || exit $?

echo
echo "\$ memsight dump -p $TPID -d 2 --format svg -o $D/leaky.svg"
"$MS" dump -p "$TPID" -d 2 --format svg -o "$D/leaky.svg" 2> "$D/svg.err" &
M1=$!
echo "\$ memsight dump -p $TPID -d 2 --format pprof -o $D/leaky.pb.gz"
"$MS" dump -p "$TPID" -d 2 --format pprof -o "$D/leaky.pb.gz" 2> "$D/pprof.err" &
M2=$!
wait_for "$D/svg.err" 'attached to PID|error' && wait_for "$D/pprof.err" 'attached to PID|error' || exit 1
kill -USR1 $TPID
wait $M1 && wait $M2 || { cat "$D"/*.err >&2; exit 1; }
echo "demo: wrote $D/leaky.svg (open in a browser) and $D/leaky.pb.gz:"
if command -v go >/dev/null; then
	echo "\$ go tool pprof -top -sample_index=inuse_space $D/leaky.pb.gz"
	HOME=$D GOCACHE=$D/gocache go tool pprof -top -sample_index=inuse_space "$D/leaky.pb.gz" 2>/dev/null | head -12
fi
