#!/bin/bash
# make demo: start the bundled leaky target, attach memsight to it while it
# runs, let it leak, and show what memsight saw (text, then a flame graph and
# a pprof file under build/demo/).
set -u
O=${1:-build}
MS=$O/memsight
mkdir -p "$O/demo"
if [ "$(id -u)" != 0 ]; then
	echo "memsight demo: needs root (BPF uprobes); try: sudo make demo" >&2
	exit 1
fi
"$O/tests/targets/leaky" > "$O/demo/target.out" &
TPID=$!
trap 'kill $TPID 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q ready "$O/demo/target.out" && break; sleep 0.1; done
echo "demo: started target $O/tests/targets/leaky as PID $TPID (it waits for SIGUSR1)"
echo "demo: \$ memsight top -p $TPID -d 3 -n 5"
"$MS" top -p "$TPID" -d 3 -n 5 &
MPID=$!
sleep 1.5	# let memsight attach before the target starts leaking
kill -USR1 $TPID
wait $MPID
rc=$?
[ $rc -ne 0 ] && exit $rc
echo
echo "demo: \$ memsight dump -p $TPID -d 2 --format svg -o $O/demo/leaky.svg (and pprof)"
"$MS" dump -p "$TPID" -d 2 --format svg -o "$O/demo/leaky.svg" &
M1=$!
"$MS" dump -p "$TPID" -d 2 --format pprof -o "$O/demo/leaky.pb.gz" &
M2=$!
sleep 1.5
kill -USR1 $TPID
wait $M1 && wait $M2 && echo "demo: wrote $O/demo/leaky.svg and $O/demo/leaky.pb.gz (go tool pprof -top $O/demo/leaky.pb.gz)"
