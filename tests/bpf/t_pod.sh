#!/bin/bash
# Claims (issue 20, item 2): on Kubernetes, memsightd names the pod, namespace
# and container of a watched process, read-only from the container runtime's
# state under host_root, and rules select processes by them. A real process
# runs in a real v1 memory cgroup laid out as the kubelet's cgroupfs driver
# lays out a pod's container (.../kubepods/burstable/pod<uid>/<container id>);
# host_root is a directory holding containerd's shim bundle for that id (the
# fixture tests/fixtures/container/host). What is faked is only where those
# files live; the cgroup, the process, the rule and every reading are real.
# A second process, in a container whose state names another pod UID, must
# get no pod and say why. The first then grows past its container's limit:
# the kernel OOM-kills it and its incident record names its pod.
. "$(dirname "$0")/lib.sh"

UID1=5b0e4a3c-2f1d-4e6b-9a87-0c1d2e3f4a5b
CA=3f1c9a0e5b7d2468ace0135792468bdf0e1a2b3c4d5e6f708192a3b4c5d6e7f8
CD=d00dfeedd00dfeedd00dfeedd00dfeedd00dfeedd00dfeedd00dfeedd00dfeed
MNT=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)memory(,|$)/) print $5 }' /proc/self/mountinfo | head -1)
V=1
if [ -z "$MNT" ]; then
	MNT=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | head -1)
	V=2
fi
# a private top so that nothing else's cgroups are touched
TOP=$MNT/memsight-t-pod-$$
POD=$TOP/kubepods/burstable/pod$UID1
if [ -z "$MNT" ] || ! mkdir -p "$POD/$CA" "$POD/$CD"; then
	fail "no memory cgroup hierarchy in which to create a pod's cgroups"; exit 0
fi
rm_cgroups() {
	local d p
	for d in "$POD/$CA" "$POD/$CD"; do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	cleanup
	for d in "$POD/$CA" "$POD/$CD" "$POD" "$TOP/kubepods/burstable" "$TOP/kubepods" "$TOP"; do
		for _ in $(seq 50); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
	done
}
trap rm_cgroups EXIT
LIMIT=$((64 * 1024 * 1024))
if [ $V = 1 ]; then
	echo $LIMIT > "$POD/$CA/memory.limit_in_bytes"
	echo 0 > "$POD/$CA/memory.swappiness" 2>/dev/null
else
	echo $LIMIT > "$POD/$CA/memory.max" 2>/dev/null
	echo 0 > "$POD/$CA/memory.swap.max" 2>/dev/null
fi
HOST=$TMP/host
mkdir -p "$HOST"
cp -r tests/fixtures/container/host/. "$HOST/"

MPORT=$((20000 + $$ % 5000 + 29))
cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
host_root = $HOST
[metrics]
listen = 127.0.0.1:$MPORT
[incidents]
dir = $TMP/incidents
[rules]
include pod=web-*
CONF
start_daemon --config "$TMP/memsightd.conf" || { fail "daemon did not start"; exit 0; }
run_in() {	# CGROUP OUT: hog started inside the cgroup (its exec is seen there)
	sh -c "echo \$\$ > '$1/cgroup.procs' && exec '$O/tests/targets/hog'" > "$2" 2>&1 &
	PIDS_TO_KILL+=($!)
}
run_in "$POD/$CA" "$TMP/h1.out"; H1=$!
run_in "$POD/$CD" "$TMP/h2.out"; H2=$!
wait_for "$TMP/h1.out" '^ready' 10
wait_for "$TMP/h2.out" '^ready' 10
check "the rule pod=web-* watches the process in the pod's container" \
	"$(wait_watched "$H1" yes 10 && echo yes)" yes
"$MS" attach "$H2" > /dev/null
sleep 1.5	# a snapshot of both

"$MS" ps -j > "$TMP/ps.json"
p1() { jq -r --argjson p "$H1" ".processes[] | select(.pid == \$p) | $1" "$TMP/ps.json"; }
check "ps: watched because of the pod rule" "$(p1 .reason)" "include pod=web-*"
check "ps: cgroup path is the pod's container" "$(p1 .cgroup.path)" \
	"/memsight-t-pod-$$/kubepods/burstable/pod$UID1/$CA"
check "ps: pod UID from the cgroup path" "$(p1 .cgroup.pod_uid)" "$UID1"
check "ps: pod name from containerd's state" "$(p1 .pod.name)" "web-7d9f8c6b5-x2k4q"
check "ps: namespace" "$(p1 .pod.namespace)" shop
check "ps: container name" "$(p1 .pod.container)" api
check "ps: source" "$(p1 .pod.source)" containerd
check "ps: another pod's state is not believed: no pod, and why" \
	"$(jq -r --argjson p "$H2" '.processes[] | select(.pid == $p) | [(.pod | type), .pod_unavailable] | join(" / ")' "$TMP/ps.json")" \
	"null / no container runtime state (containerd, CRI-O) names this container under host_root"
"$MS" ps > "$TMP/ps.txt"
check "ps text: a pod line under the process" \
	"$(grep -c '^ *pod shop/web-7d9f8c6b5-x2k4q container api$' "$TMP/ps.txt")" 1

curl -sf "http://127.0.0.1:$MPORT/metrics" > "$TMP/m.txt"
check_cmd "/metrics: pod, namespace and container on the info series" \
	grep -q "^memsight_process_container_info{pid=\"$H1\",comm=\"hog\",.*,pod_uid=\"$UID1\",pod=\"web-7d9f8c6b5-x2k4q\",namespace=\"shop\",container=\"api\"} 1$" "$TMP/m.txt"
check "/metrics: the info series of the unknown pod has no pod label" \
	"$(grep "^memsight_process_container_info{pid=\"$H2\"," "$TMP/m.txt" | grep -c 'pod=')" 0
check "/metrics: no other series carries pod labels" \
	"$(grep -v '^#' "$TMP/m.txt" | grep -v '^memsight_process_container_info{' | grep -c ',pod=\|namespace=')" 0

# the CLI's selectors reach the daemon's rules
"$MS" attach --namespace shop > "$TMP/attach.out" 2>&1
check "attach --namespace: accepted" "$(grep -c 'now watches processes matching namespace=shop' "$TMP/attach.out")" 1
check "rules: the new rule is listed" "$("$MS" rules -j | jq -r '[.. | strings | select(. == "include namespace=shop")] | length > 0')" true
"$MS" detach --namespace shop > /dev/null 2>&1
check "detach --namespace: the rule is gone" "$("$MS" rules -j | jq -r '[.. | strings | select(. == "include namespace=shop")] | length')" 0

# a process's profile names its pod: memsightd's dump, and the standalone
# CLI's (the runtimes' state under MEMSIGHT_HOST_ROOT, else the host's /)
"$MS" dump "$H1" --format json -o "$TMP/d1.json"
check "dump (memsightd): the pod" \
	"$(jq -r '[.pod.namespace, .pod.name, .pod.container] | join("/")' "$TMP/d1.json")" "shop/web-7d9f8c6b5-x2k4q/api"
MEMSIGHT_SOCKET=$TMP/no-daemon.sock MEMSIGHT_HOST_ROOT=$HOST "$MS" dump "$H2" -d 1 --format json -o "$TMP/d2.json" 2> /dev/null
check "dump (standalone): another pod's state is not believed, and why" \
	"$(jq -r '[(.pod | type), .pod_unavailable] | join(" / ")' "$TMP/d2.json")" \
	"null / no container runtime state (containerd, CRI-O) names this container under host_root"
MEMSIGHT_SOCKET=$TMP/no-daemon.sock MEMSIGHT_HOST_ROOT=$HOST "$MS" dump "$H1" -d 1 --format text -o "$TMP/d1.txt" 2> /dev/null
check "dump (standalone) text: the pod line" \
	"$(grep -c '^pod shop/web-7d9f8c6b5-x2k4q container api$' "$TMP/d1.txt")" 1

# the OOM kill in the pod's container: the incident says which pod
kill -USR1 "$H1"
wait "$H1"; rc=$?
check "the kernel killed the growing process in its container (SIGKILL)" "$rc" 137
export MEMSIGHT_INCIDENTS=$TMP/incidents
for _ in $(seq 50); do [ -n "$(ls "$TMP/incidents" 2>/dev/null)" ] && break; sleep 0.1; done
ID=$("$MS" incidents -j | jq -r --argjson p "$H1" '.[] | select(.pid == $p) | .id')
"$MS" incidents show "$ID" -j > "$TMP/inc.json"
check "incident: the victim's pod, namespace and container" \
	"$(jq -r '[.pod.namespace, .pod.name, .pod.container] | join("/")' "$TMP/inc.json")" \
	"shop/web-7d9f8c6b5-x2k4q/api"
"$MS" incidents show "$ID" > "$TMP/inc.txt"
check "incident text: the pod line" \
	"$(grep -c '^pod shop/web-7d9f8c6b5-x2k4q container api$' "$TMP/inc.txt")" 1
