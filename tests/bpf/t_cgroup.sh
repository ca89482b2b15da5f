#!/bin/bash
# Claims (issue 20, item 1): memsight shows the memory cgroup of every watched
# process, and its figures are the cgroup's own: two hogs in a real memory
# cgroup limited to 64 MiB, watched by memsightd: `memsight ps -j`, `memsight
# top -p` and /metrics give the limit, usage (within a margin: it moves),
# peak and OOM-kill counter that the cgroup's files give at the same moment;
# then one hog grows until the kernel OOM-kills it in its cgroup, and the
# counter seen beside the hog still alive rises to the file's value.
# The cgroup is v1 memory here (the memory controller's mount found through
# /proc/self/mountinfo); cgroup v2 with the memory controller where the
# machine has it.
. "$(dirname "$0")/lib.sh"

LIMIT=$((64 * 1024 * 1024))
# the memory controller's mount: v1 first (it owns memory when both exist)
MNT=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)memory(,|$)/) print $5 }' /proc/self/mountinfo | head -1)
V=1
if [ -z "$MNT" ]; then
	MNT=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | head -1)
	V=2
	# children get memory.* files only when the root delegates the controller
	if [ -n "$MNT" ] && grep -qw memory "$MNT/cgroup.controllers" 2>/dev/null; then
		grep -qw memory "$MNT/cgroup.subtree_control" ||
			echo +memory > "$MNT/cgroup.subtree_control" 2>/dev/null
	fi
	grep -qw memory "$MNT/cgroup.subtree_control" 2>/dev/null || MNT=""
fi
CG=$MNT/memsight-t-cgroup-$$
if [ -z "$MNT" ] || ! mkdir "$CG"; then
	fail "no memory cgroup (v1 or v2 with the memory controller) can be created here"; exit 0
fi
rm_cgroup() {
	local p
	for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	cleanup
	for _ in $(seq 50); do rmdir "$CG" 2>/dev/null && return; sleep 0.1; done
}
trap rm_cgroup EXIT
if [ $V = 1 ]; then
	echo $LIMIT > "$CG/memory.limit_in_bytes"
	echo 0 > "$CG/memory.swappiness" 2>/dev/null
	F_LIMIT=memory.limit_in_bytes F_USAGE=memory.usage_in_bytes F_PEAK=memory.max_usage_in_bytes
	F_EVENTS=memory.oom_control
else
	echo $LIMIT > "$CG/memory.max"
	echo 0 > "$CG/memory.swap.max" 2>/dev/null
	F_LIMIT=memory.max F_USAGE=memory.current F_PEAK=memory.peak F_EVENTS=memory.events
fi
oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$CG/$F_EVENTS"; }

MPORT=$((20000 + $$ % 5000 + 23))
cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
[metrics]
listen = 127.0.0.1:$MPORT
[incidents]
dir = $TMP/incidents
[rules]
include comm=hog
CONF
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
# started inside the cgroup, so all their memory is charged to it
for n in 1 2; do
	sh -c "echo \$\$ > '$CG/cgroup.procs' && exec '$O/tests/targets/hog'" > "$TMP/hog$n.out" 2>&1 &
	PIDS_TO_KILL+=($!)
	eval "H$n=$!"
	wait_for "$TMP/hog$n.out" '^ready' 10
done
check "both hogs watched" "$(wait_watched "$H1" yes 10 && wait_watched "$H2" yes 10 && echo yes)" yes
CGPATH=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ || ($1 == 0 && v == 2) { print $3; exit }' v=$V /proc/"$H1"/cgroup)
[ $V = 2 ] && CGPATH=$(awk -F: '$1 == 0 { print $3 }' /proc/"$H1"/cgroup)

# ps: figures read now, against the files read at the same moment
"$MS" ps -j > "$TMP/ps.json"
usage=$(cat "$CG/$F_USAGE") peak=$(cat "$CG/$F_PEAK")
jq --argjson p "$H1" '.processes[] | select(.pid == $p) | .cgroup' "$TMP/ps.json" > "$TMP/ps1.json"
check "ps: cgroup version" "$(jq .version "$TMP/ps1.json")" $V
check "ps: cgroup path as /proc/PID/cgroup names it" "$(jq -r .path "$TMP/ps1.json")" "$CGPATH"
check "ps: limit = $F_LIMIT" "$(jq .limit_bytes "$TMP/ps1.json")" "$(cat "$CG/$F_LIMIT")"
check "ps: usage within 10% of $F_USAGE" "$(within 10 "$(jq .usage_bytes "$TMP/ps1.json")" "$usage")" yes
check "ps: peak within 10% of $F_PEAK" "$(within 10 "$(jq .peak_bytes "$TMP/ps1.json")" "$peak")" yes
check "ps: OOM kills = the file's (0)" "$(jq .oom_kills "$TMP/ps1.json")" "$(oom_kills)"
check "ps: RSS share of the limit given" \
	"$(jq '.rss_share_of_limit_basis_points | type' "$TMP/ps1.json")" '"number"'
[ $V = 1 ] && check "ps: v1 has no memory.high, said so (not 0)" \
	"$(jq -r .high_unavailable "$TMP/ps1.json")" "cgroup v1 has no memory.high"

"$MS" ps > "$TMP/ps.txt"
check_cmd "ps text: the cgroup line under each hog" \
	test "$(grep -cE "^ +cgroup v$V $CGPATH: limit 64\.00 MiB \(RSS [0-9.]+%\), usage .*, OOM kills 0$" "$TMP/ps.txt")" = 2

# memsight top -p: its own attach, the same figures in its header and JSON
"$MS" top -p "$H2" -d 1 --json > "$TMP/top.json" 2> "$TMP/top.err"
check "top -p --json: limit = $F_LIMIT" "$(jq '.. | .cgroup? // empty | .limit_bytes' "$TMP/top.json" | head -1)" \
	"$(cat "$CG/$F_LIMIT")"
"$MS" top -p "$H2" -d 1 > "$TMP/top.txt" 2>> "$TMP/top.err"
check_cmd "top -p header: cgroup line with its limit" \
	grep -qE "^cgroup v$V .*: limit 64\.00 MiB \(RSS [0-9.]+% of it\)" "$TMP/top.txt"

# /metrics, after a snapshot
sleep 1.5
curl -sf "http://127.0.0.1:$MPORT/metrics" > "$TMP/m1.txt"
usage=$(cat "$CG/$F_USAGE")
metric() { awk -v n="$1" -v p="pid=\"$2\"" 'index($0, n "{") == 1 && index($0, p) { print $NF }' "$3"; }
check "/metrics: limit = $F_LIMIT" "$(metric memsight_cgroup_memory_limit_bytes "$H1" "$TMP/m1.txt")" \
	"$(cat "$CG/$F_LIMIT")"
check "/metrics: usage within 10% of $F_USAGE" \
	"$(within 10 "$(metric memsight_cgroup_memory_usage_bytes "$H1" "$TMP/m1.txt")" "$usage")" yes
check "/metrics: OOM kills 0 before" "$(metric memsight_cgroup_oom_kills_total "$H2" "$TMP/m1.txt")" 0
check_cmd "/metrics: cgroup label" grep -q "memsight_cgroup_memory_limit_bytes{pid=\"$H1\",comm=\"hog\",cgroup=\"$CGPATH\"}" "$TMP/m1.txt"

# one hog grows past the limit: the kernel kills it in its cgroup
kill -USR1 "$H1"
wait "$H1"; rc=$?
check "the kernel killed the growing hog (SIGKILL)" "$rc" 137
check "the cgroup counted the kill" "$(oom_kills)" 1
sleep 1.5
"$MS" ps -j > "$TMP/ps2.json"
check "ps: OOM kills beside the live hog = the file's" \
	"$(jq --argjson p "$H2" '.processes[] | select(.pid == $p) | .cgroup.oom_kills' "$TMP/ps2.json")" "$(oom_kills)"
curl -sf "http://127.0.0.1:$MPORT/metrics" > "$TMP/m2.txt"
check "/metrics: OOM kills rose to the file's" "$(metric memsight_cgroup_oom_kills_total "$H2" "$TMP/m2.txt")" \
	"$(oom_kills)"
check "/metrics: peak near the limit after the kill (>= 90%)" \
	"$(awk -v a="$(metric memsight_cgroup_memory_peak_bytes "$H2" "$TMP/m2.txt")" -v l=$LIMIT 'BEGIN { print (a >= 0.9 * l) ? "yes" : "no" }')" yes

# the flight recorder: the victim's incident names its cgroup and limit
export MEMSIGHT_INCIDENTS=$TMP/incidents
for _ in $(seq 50); do [ -n "$(ls "$TMP/incidents" 2>/dev/null)" ] && break; sleep 0.1; done
ID=$("$MS" incidents -j | jq -r --argjson p "$H1" '.[] | select(.pid == $p) | .id')
"$MS" incidents show "$ID" -j > "$TMP/inc.json"
check "incident: the victim's cgroup" "$(jq -r .cgroup.path "$TMP/inc.json")" "$CGPATH"
check "incident: its limit" "$(jq .cgroup.limit_bytes "$TMP/inc.json")" $LIMIT
check "incident: the other hog in the cgroup, with its RSS" \
	"$(jq --argjson p "$H2" '[.cgroup_watched_processes[] | select(.pid == $p and .rss_bytes > 0)] | length' "$TMP/inc.json")" 1
check "incident: cgroup usage in the history" \
	"$(jq '[.rss_history[] | select(.cgroup_usage_bytes > 0)] | length > 0' "$TMP/inc.json")" true
"$MS" incidents show "$ID" > "$TMP/inc.txt"
check_cmd "incident text: cgroup line with its limit" \
	grep -qE "^cgroup v$V $CGPATH \(as of (kill|last snapshot)\): limit 64\.00 MiB" "$TMP/inc.txt"
