#!/bin/bash
# Claims: `memsight ps` reads its figures at the request, not at the last
# snapshot (the snapshot interval here is an hour): right after attach RSS,
# peak and threads are /proc's figures of that moment and the growth, which
# needs two snapshots, is "-" (null plus a reason), never 0; once leaky has
# leaked, ps shows its exact heap (4,211,536 B) and its grown RSS at once.
. "$(dirname "$0")/lib.sh"

printf '[daemon]\nsnapshot_interval_s = 3600\n[metrics]\nlisten = off\n' > "$TMP/memsightd.conf"
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/leaky.out"
"$MS" attach "$TPID" > /dev/null || { fail "attach failed"; exit 0; }

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status; }
ps_of() { "$MS" ps -j | jq --argjson p "$1" '.processes[] | select(.pid == $p)'; }
ps_of "$TPID" > "$TMP/ps0.json"
rss0=$(status_kb "$TPID" VmRSS)
check "right after attach: RSS is /proc's (leaky is idle: within 5%)" \
	"$(within 5 "$(jq .rss_bytes "$TMP/ps0.json")" $((rss0 * 1024)))" yes
check "right after attach: peak RSS is /proc's" \
	"$(within 5 "$(jq .peak_rss_bytes "$TMP/ps0.json")" $(($(status_kb "$TPID" VmHWM) * 1024)))" yes
check "right after attach: threads are /proc's" \
	"$(jq .threads "$TMP/ps0.json")" "$(status_kb "$TPID" Threads)"
check "right after attach: growth is null, with a reason" \
	"$(jq '.growth_bytes_per_min == null and (.growth_unavailable | length > 0)' "$TMP/ps0.json")" true
"$MS" ps > "$TMP/ps0.txt"
row=$(awk -v p="$TPID" '$1 == p' "$TMP/ps0.txt")
echo "ps right after attach: $row"
check "text ps: the growth column says - (not +0 B)" \
	"$(echo "$row" | awk '{ print $(NF - 1) }')" "-"
check "text ps: heap 0 B (true: leaky has not allocated yet), RSS and peak not 0 B" \
	"$(grep -o ' 0 B ' <<< "$row" | wc -l)" 1

kill -USR1 "$TPID"
wait_for "$TMP/leaky.out" '^done' 20 || { fail "leaky did not finish"; exit 0; }
ps_of "$TPID" > "$TMP/ps1.json"
rss1=$(status_kb "$TPID" VmRSS)
echo "figures: RSS at attach ${rss0} KiB, after the leak ${rss1} KiB;" \
     "ps says $(jq .rss_bytes "$TMP/ps1.json") B, heap $(jq .heap_inuse_bytes "$TMP/ps1.json") B"
check "after the leak, before any snapshot: heap in use is exact" \
	"$(jq .heap_inuse_bytes "$TMP/ps1.json")" 4211536
check "after the leak: RSS is /proc's now (within 5%), not the attach-time one" \
	"$(within 5 "$(jq .rss_bytes "$TMP/ps1.json")" $((rss1 * 1024)))" yes
check "after the leak: RSS grew by at least 4 MB" \
	"$([ $((rss1 - rss0)) -ge 3900 ] && echo yes)" yes
