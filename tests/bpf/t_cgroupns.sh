#!/bin/bash
# Claims (issue 20): memsight in a cgroup namespace of its own (memsightd in
# a Kubernetes pod: containerd gives every container one on cgroup v2) shows
# the memory cgroup of a process in another cgroup by its host path, with the
# cgroup's own figures, when the host's hierarchy is mounted where it runs
# (the DaemonSet mounts it at /host/sys/fs/cgroup): the kernel names such a
# cgroup "/../other" from inside, and the host's mount has root "/..". Without
# the host's mount: unavailable, saying why. Before: unavailable for every
# process outside memsight's own cgroup.
. "$(dirname "$0")/lib.sh"

LIMIT=$((64 * 1024 * 1024))
MNT=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)memory(,|$)/) print $5 }' /proc/self/mountinfo | head -1)
V=1 FSTYPE=cgroup OPTS="-o memory" F_LIMIT=memory.limit_in_bytes
if [ -z "$MNT" ]; then
	MNT=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | head -1)
	V=2 FSTYPE=cgroup2 OPTS="" F_LIMIT=memory.max
	if [ -n "$MNT" ] && grep -qw memory "$MNT/cgroup.controllers" 2>/dev/null; then
		grep -qw memory "$MNT/cgroup.subtree_control" ||
			echo +memory > "$MNT/cgroup.subtree_control" 2>/dev/null
	fi
fi
NAME=memsight-t-cgns-$$
CG=$MNT/$NAME
if [ -z "$MNT" ] || ! mkdir -p "$CG/me" "$CG/other"; then
	fail "no memory cgroup (v1 or v2) can be created here"; exit 0
fi
[ $V = 2 ] && echo +memory > "$CG/cgroup.subtree_control" 2>/dev/null
rm_cgroup() {
	local p
	for p in $(cat "$CG"/*/cgroup.procs 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	cleanup
	for _ in $(seq 50); do rmdir "$CG/me" "$CG/other" "$CG" 2>/dev/null && return; sleep 0.1; done
}
trap rm_cgroup EXIT
[ -n "$KEEP" ] && trap "" EXIT
echo $LIMIT > "$CG/other/$F_LIMIT"

start_target "$O/tests/targets/leaky" "$TMP/leaky.out"
echo "$TPID" > "$CG/other/cgroup.procs"

# memsight in cgroup "me" with a cgroup namespace rooted there, its own
# hierarchy mounted at the usual place (root: the namespace's) and the
# host's at $TMP/host, as in the DaemonSet; then the host's taken away
mkdir -p "$TMP/host"
bash -c 'echo $$ > "$1/me/cgroup.procs" && exec unshare --cgroup --mount bash -s "${@:2}"' \
	_ "$CG" "$MNT" "$TMP" "$MS" "$TPID" "$FSTYPE" "$OPTS" > "$TMP/ns.log" 2>&1 <<'INNER'
MNT=$1 TMP=$2 MS=$3 TPID=$4 FSTYPE=$5 OPTS=$6
set -x
mount --make-rprivate /
mount --bind "$MNT" "$TMP/host"
umount -l "$MNT"
mount -t "$FSTYPE" $OPTS none "$MNT"
cat /proc/self/cgroup /proc/"$TPID"/cgroup
grep cgroup /proc/self/mountinfo
"$MS" dump "$TPID" -d 1 --format json -o "$TMP/ns.json"
umount -l "$TMP/host"
"$MS" dump "$TPID" -d 1 --format json -o "$TMP/nohost.json"
INNER
if ! grep -q "^[0-9]*:[a-z,]*memory[a-z,]*:/\.\./other\$\|^0::/\.\./other\$" "$TMP/ns.log"; then
	fail "the namespace was not made (the kernel did not name the cgroup /../other):"
	cat "$TMP/ns.log"; exit 0
fi
check "in a cgroup namespace: the process's cgroup by its host path" \
	"$(jq -r .cgroup.path "$TMP/ns.json")" "/$NAME/other"
check "in a cgroup namespace: its limit, from the host's hierarchy" \
	"$(jq -r .cgroup.limit_bytes "$TMP/ns.json")" "$LIMIT"
check "in a cgroup namespace: its usage, read" \
	"$(jq -r '.cgroup.usage_bytes > 0' "$TMP/ns.json")" true
check_cmd "without the host's hierarchy: unavailable, saying why" \
	grep -q "outside memsight's cgroup namespace, and the host's cgroup hierarchy is not mounted" \
	<(jq -r .cgroup_unavailable "$TMP/nohost.json")
