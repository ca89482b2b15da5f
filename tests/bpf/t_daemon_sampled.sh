#!/bin/bash
# Claim (issue 18, "Aggregates to figures"): under memsightd --sample-bytes,
# every view of a process's in-use bytes is the same unsampled estimate:
# `ps -j`'s heap_inuse_bytes, /metrics' memsight_process_heap_inuse_bytes and
# `top PID -j`'s tracked in-use agree (one model function computes them all),
# and that figure is within 25% of leaky's known 4,211,536 B (see
# t_sampled.sh: about 250 samples, 4 standard deviations).
. "$(dirname "$0")/lib.sh"

MPORT=$((35000 + RANDOM % 5000))
cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
[metrics]
listen = 127.0.0.1:$MPORT
CONF

start_target "$O/tests/targets/leaky" "$TMP/t.out"
start_daemon --config "$TMP/memsightd.conf" --sample-bytes 16384 ||
	{ fail "daemon did not start"; exit 1; }
check "attach" "$("$MS" attach "$TPID" > /dev/null; echo $?)" 0
kill -USR1 "$TPID"
wait_for "$TMP/t.out" '^done' 30 || { fail "leaky did not finish"; exit 1; }

# leaky allocates nothing after "done": the aggregates are still, and the
# first snapshot taken after them holds their final figures
top_inuse() { "$MS" top "$TPID" -j | jq .tracked.inuse_bytes; }
ps_inuse() { "$MS" ps -j | jq --argjson p "$TPID" '.processes[] | select(.pid == $p) | .heap_inuse_bytes'; }
metrics_inuse() {
	curl -sf "http://127.0.0.1:$MPORT/metrics" |
		awk -v p="pid=\"$TPID\"" '$1 ~ /^memsight_process_heap_inuse_bytes\{/ && index($1, p) { print $2 }'
}
# ps reads its figures at the request; /metrics publishes a snapshot's:
# wait for the first snapshot after the leak (both must then be top's)
t=$(top_inuse)
for ((i = 0; i < 100; i++)); do
	p=$(ps_inuse) m=$(metrics_inuse)
	[ -n "$p" ] && [ "$p" = "$t" ] && [ "$m" = "$t" ] && break
	sleep 0.1
done
echo "figures: top $t, ps $p, metrics $m (truth 4211536)"
check "top: tracked in use within 25% of 4211536 ($t)" "$(within 25 "$t" 4211536)" yes
check "ps: heap_inuse_bytes is top's estimate ($p)" "$p" "$t"
check "metrics: heap in use is top's estimate ($m)" "$m" "$t"
check "ps: within 25% of 4211536 ($p)" "$(within 25 "$p" 4211536)" yes
# and the same with glibc's rounding, estimated alike
tu=$("$MS" top "$TPID" -j | jq .tracked.inuse_usable_bytes)
pu=$("$MS" ps -j | jq --argjson p "$TPID" '.processes[] | select(.pid == $p) | .heap_inuse_usable_bytes')
mu=$(curl -sf "http://127.0.0.1:$MPORT/metrics" |
	awk -v p="pid=\"$TPID\"" '$1 ~ /^memsight_process_heap_inuse_usable_bytes\{/ && index($1, p) { print $2 }')
check "ps: heap_inuse_usable_bytes is top's estimate ($pu)" "$pu" "$tu"
check "metrics: heap in use with the rounding is top's estimate ($mu)" "$mu" "$tu"
check "top: in use with the rounding within 25% of leaky's own ($tu)" \
	"$(within 25 "$tu" "$(sed -n 's/^usable //p' "$TMP/t.out")")" yes
kill -TERM "$DPID"; wait "$DPID"
check "SIGTERM exit status" "$?" 0
