#!/bin/bash
# bench/soak.sh [BUILD_DIR] - soak: memsightd attached for SOAK_SECONDS
# (default 600) to bench/workload allocating as fast as it can. Claims, each
# printed with its figures:
#   - every allocator call is accounted for: events recorded + every loss
#     counter == the workload's own call counts;
#   - the daemon's RSS drifts by less than 10% from minute 1 to the end.
# Needs root. Run as `make soak` (not part of make test: it takes 10 minutes).
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
bench_init bench/soak "$@"
SECS=${SOAK_SECONDS:-600}
bench_tmp soak
pass=0; fail=0
check() { if [ "$2" == "$3" ]; then echo "PASS soak: $1 ($2)"; pass=$((pass + 1));
	  else echo "FAIL soak: $1: got '$2', expected '$3'"; fail=$((fail + 1)); fi; }

mkdir -p "$OUT"
build_workload || exit 1
export MEMSIGHT_SOCKET=$TMP/sock
# SOAK_DAEMON_ARGS: e.g. "--unwind dwarf" or "--sample-bytes 65536" (DWARF samples)
# shellcheck disable=SC2086
"$O/memsightd" --socket "$MEMSIGHT_SOCKET" --metrics off ${SOAK_DAEMON_ARGS:-} > "$TMP/d.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
wait_for "$TMP/d.log" 'ready:' 10
mkfifo "$TMP/in"
"$W" -t "$SECS" < "$TMP/in" > "$TMP/w.out" 2>&1 &
WPID=$!
PIDS+=("$WPID")
exec 3> "$TMP/in"
wait_for "$TMP/w.out" '^ready' 10
"$MS" attach "$WPID" > /dev/null || exit 1
echo go >&3
sleep 60
rss1=$(status_kb "$DPID" VmRSS)
echo "soak: minute 1: daemon RSS $rss1 KiB; running $SECS s in all"
while ! grep -q '^result' "$TMP/w.out"; do sleep 5; done
rss2=$(status_kb "$DPID" VmRSS)
"$MS" dump "$WPID" --format json -o "$TMP/w.json" || exit 1
line=$(grep '^result' "$TMP/w.out")
calls=$(( $(kv "$line" malloc) + $(kv "$line" calloc) + $(kv "$line" realloc) ))
frees=$(( $(kv "$line" free) + $(kv "$line" realloc) ))
e() { jq ".events.$1" "$TMP/w.json"; }
seen_a=$(( $(e allocs) + $(e live_table_full) + $(e aggregate_table_full) + $(e inflight_full) + $(e failed_allocs) ))
seen_f=$(( $(e frees) + $(e frees_untracked) ))
echo "soak: $line"
echo "soak: memsight allocs $(e allocs) frees $(e frees) untracked frees $(e frees_untracked)" \
     "live_full $(e live_table_full) agg_full $(e aggregate_table_full) inflight_full $(e inflight_full)" \
     "dwarf_stacks $(e dwarf_stacks) dwarf_stacks_lost $(e dwarf_stacks_lost) ($(jq -r .tracked.unwind "$TMP/w.json"))"
check "allocations: recorded + lost == the workload's calls" "$seen_a" "$calls"
# realloc frees its old block unless it grew in place (then the same
# address is freed and re-recorded): either count is exact
if [ "$seen_f" = "$frees" ] || [ "$seen_f" = $(( $(kv "$line" free) + $(kv "$line" realloc_moved) )) ]; then
	check "frees: recorded + untracked == the workload's frees" yes yes
else
	check "frees: recorded + untracked == the workload's frees" "$seen_f" "$frees"
fi
drift=$(awk -v a="$rss1" -v b="$rss2" 'BEGIN { d = (b - a) / a * 100; printf "%.1f", d }')
echo "soak: daemon RSS $rss1 KiB at minute 1, $rss2 KiB at the end: drift ${drift}%"
check "daemon RSS drift < 10%" "$(awk -v d="$drift" 'BEGIN { print (d < 10 && d > -10) ? "yes" : "no" }')" yes
echo "soak: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
