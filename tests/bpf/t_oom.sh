#!/bin/bash
# Claim (issue "Where RSS goes"): a watched target in a memory-limited cgroup
# grows until the kernel OOM-kills it; `memsight incidents` then shows it
# with its top allocator stack and RSS history, and nothing written is lost
# across a daemon restart.
. "$(dirname "$0")/lib.sh"

CG=""
for root in /sys/fs/cgroup/memory /sys/fs/cgroup; do
	if [ -w "$root" ] && { [ -e "$root/memory.limit_in_bytes" ] || grep -qw memory "$root/cgroup.controllers" 2>/dev/null; }; then
		CG=$root/memsight-test-$$
		break
	fi
done
if [ -z "$CG" ] || ! mkdir "$CG"; then
	fail "no writable memory cgroup to limit the target with"; exit 0
fi
trap 'rmdir "$CG" 2>/dev/null; cleanup' EXIT
if [ -e "$CG/memory.limit_in_bytes" ]; then
	echo $((96 * 1024 * 1024)) > "$CG/memory.limit_in_bytes"
	echo 0 > "$CG/memory.swappiness" 2>/dev/null
else
	echo $((96 * 1024 * 1024)) > "$CG/memory.max"
	echo 0 > "$CG/memory.swap.max" 2>/dev/null
fi

cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
[metrics]
listen = off
[incidents]
dir = $TMP/incidents
[rules]
include comm=hog
CONF
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
export MEMSIGHT_INCIDENTS=$TMP/incidents
sh -c "echo \$\$ > '$CG/cgroup.procs' && exec '$O/tests/targets/hog'" > "$TMP/hog.out" 2>&1 &
HPID=$!
wait_for "$TMP/hog.out" '^ready' 10
check "hog watched by its rule" "$(wait_watched "$HPID" yes 10 && echo yes)" yes
kill -USR1 "$HPID"
wait "$HPID"; rc=$?
check "the kernel killed it (SIGKILL)" "$rc" 137
for _ in $(seq 50); do [ -n "$(ls "$TMP/incidents" 2>/dev/null)" ] && break; sleep 0.1; done
"$MS" incidents -j > "$TMP/list.json"
check "incidents lists it" "$(jq -r --argjson p "$HPID" '[.[] | select(.pid == $p)] | length' "$TMP/list.json")" 1
ID=$(jq -r --argjson p "$HPID" '.[] | select(.pid == $p) | .id' "$TMP/list.json")
"$MS" incidents show "$ID" -j > "$TMP/inc.json"
check "recorded as an OOM kill" "$(jq -r .reason "$TMP/inc.json")" oom-kill
check "top allocator stack is grow()" \
	"$(jq -r '.profile.stacks | map(select(.kind == "malloc")) | .[0].frames[0].func' "$TMP/inc.json")" grow
check "its in-use bytes near the limit (>= 48 MiB)" \
	"$(jq '[.profile.stacks[] | select(.kind == "malloc") | .inuse_bytes] | add >= 48 * 1048576' "$TMP/inc.json")" true
check "RSS history recorded, growing" \
	"$(jq '(.rss_history | length) >= 2 and (.rss_history[-1].rss_bytes > .rss_history[0].rss_bytes)' "$TMP/inc.json")" true
"$MS" incidents show "$ID" > "$TMP/inc.txt"
check_cmd "text view: reason, RSS history and grow" \
	bash -c "grep -q 'oom-kill' '$TMP/inc.txt' && grep -q 'RSS history' '$TMP/inc.txt' && grep -q 'grow' '$TMP/inc.txt'"
# a restart keeps what was written
kill -TERM "$DPID"; wait "$DPID"
start_daemon --config "$TMP/memsightd.conf"
check "after a daemon restart the incident is still there" \
	"$("$MS" incidents -j | jq -r --arg id "$ID" '[.[] | select(.id == $id)] | length')" 1
check "hostile incident id refused" "$("$MS" incidents show ../../etc/passwd > /dev/null 2>&1; echo $?)" 1
