#!/bin/bash
# Claims (issue "The kernels our users run"): `memsight version` names every
# kernel feature memsight depends on, each probed as yes or no (as root never
# "unknown"), with what memsight does without it; on a kernel of the matrix
# (tests/kernels/matrix, passed in as MS_KERNEL_EXPECT) exactly the features
# listed there; and a session does what the report says: its attach line
# names the link kind the features allow, and says what this kernel lacks.
. "$(dirname "$0")/lib.sh"

"$MS" version > "$TMP/version" 2>&1
check "version: exit status" "$?" 0
cat "$TMP/version"
for f in btf ringbuf uprobe_multi uprobe_session find_vma tp_rss_stat rss_percpu \
	tp_page_fault_user tp_mark_victim mark_victim_task; do
	v=$(kfeature "$f")
	check "feature $f probed" "$([[ $v == yes || $v == no ]] && echo yes)" yes
	[ "$v" = no ] && { grep -E "^  $f +no +\(.{10,}\)$" "$TMP/version" > /dev/null &&
		pass "feature $f: says what memsight does without it" ||
		fail "feature $f: no reason given"; }
done
check "BTF present (required)" "$(kfeature btf)" yes
check "ring buffer present (required)" "$(kfeature ringbuf)" yes
for kv in $MS_KERNEL_EXPECT; do
	check "kernel $(uname -r): ${kv%%=*} as the matrix says" "$(kfeature "${kv%%=*}")" "${kv#*=}"
done

start_target "$O/tests/targets/leaky" "$TMP/t.out"
start_memsight "$TMP/top.txt" "$TMP/top.err" top -p "$TPID" -d 1 || fail "memsight did not attach"
wait "$MPID"
check "attach line names the link kind the kernel allows ($(link_kind))" \
	"$(grep -c "probes in .*($(link_kind))\$" "$TMP/top.err")" 1
lacks=$(awk '$2 == "no" { printf "%sno %s", n++ ? ", " : "", $1 }' "$TMP/.kfeatures" |
	sed 's/no btf, //; s/no ringbuf, //')
if [ -n "$lacks" ]; then
	check "attach says what the kernel lacks" "$(grep -c "this kernel has $lacks (" "$TMP/top.err")" 1
else
	check "attach says nothing of missing features" "$(grep -c 'this kernel has' "$TMP/top.err")" 0
fi
check "no program left loaded" "$(progs_left)" 0
