#!/bin/bash
# bench/soak.sh [BUILD_DIR] - soak: memsightd attached for SOAK_SECONDS
# (default 600) to bench/workload allocating as fast as it can. Claims, each
# printed with its figures:
#   - every allocator call is accounted for: events recorded + every loss
#     counter == the workload's own call counts;
#   - the daemon's RSS drifts by less than 10% from minute 1 to the end.
# Needs root. Run as `make soak` (not part of make test: it takes 10 minutes).
set -u
O=${1:-build}
SECS=${SOAK_SECONDS:-600}
MS=$O/memsight
TMP=$(mktemp -d /tmp/memsight-soak.XXXXXX)
trap 'kill $WPID $DPID 2>/dev/null; rm -rf "$TMP"' EXIT
pass=0; fail=0
check() { if [ "$2" == "$3" ]; then echo "PASS soak: $1 ($2)"; pass=$((pass + 1));
	  else echo "FAIL soak: $1: got '$2', expected '$3'"; fail=$((fail + 1)); fi; }

mkdir -p "$O/bench"
cc -O2 -g -fno-omit-frame-pointer -o "$O/bench/workload" bench/workload.c || exit 1
export MEMSIGHT_SOCKET=$TMP/sock
# SOAK_DAEMON_ARGS: e.g. "--unwind dwarf" or "--sample-bytes 65536" (DWARF samples)
# shellcheck disable=SC2086
"$O/memsightd" --socket "$MEMSIGHT_SOCKET" --metrics off ${SOAK_DAEMON_ARGS:-} > "$TMP/d.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do grep -q 'ready:' "$TMP/d.log" && break; sleep 0.1; done
mkfifo "$TMP/in"
"$O/bench/workload" -t "$SECS" < "$TMP/in" > "$TMP/w.out" 2>&1 &
WPID=$!
exec 3> "$TMP/in"
for _ in $(seq 100); do grep -q '^ready' "$TMP/w.out" && break; sleep 0.1; done
"$MS" attach "$WPID" > /dev/null || exit 1
echo go >&3
sleep 60
rss1=$(awk '/^VmRSS/ {print $2}' /proc/$DPID/status)
echo "soak: minute 1: daemon RSS $rss1 KiB; running $SECS s in all"
while ! grep -q '^result' "$TMP/w.out"; do sleep 5; done
rss2=$(awk '/^VmRSS/ {print $2}' /proc/$DPID/status)
"$MS" dump "$WPID" --format json -o "$TMP/w.json" || exit 1
line=$(grep '^result' "$TMP/w.out")
kv() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
calls=$(( $(kv malloc) + $(kv calloc) + $(kv realloc) ))
frees=$(( $(kv free) + $(kv realloc) ))
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
if [ "$seen_f" = "$frees" ] || [ "$seen_f" = $(( $(kv free) + $(kv realloc_moved) )) ]; then
	check "frees: recorded + untracked == the workload's frees" yes yes
else
	check "frees: recorded + untracked == the workload's frees" "$seen_f" "$frees"
fi
drift=$(awk -v a="$rss1" -v b="$rss2" 'BEGIN { d = (b - a) / a * 100; printf "%.1f", d }')
echo "soak: daemon RSS $rss1 KiB at minute 1, $rss2 KiB at the end: drift ${drift}%"
check "daemon RSS drift < 10%" "$(awk -v d="$drift" 'BEGIN { print (d < 10 && d > -10) ? "yes" : "no" }')" yes
echo "soak: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
