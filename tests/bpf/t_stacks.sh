#!/bin/bash
# Claim: allocation stacks are stored whole and never confused with each
# other, at any stack count. tests/targets/manystacks makes 20,000
# allocations from 20,000 distinct stacks, each of a size that its frames
# tell (16 B x (1 + its stk_b frames)):
#  - `memsight top -p`: every one of them is shown under its own stack with
#    exactly its bytes, none under "no stack", nothing lost (the kernel's
#    stack-trace map of 16,384 buckets that memsight used before lost
#    thousands to hash collisions, and filed some under other stacks);
#  - memsightd with a quota of 4,096 stacks per process, read all along while
#    it allocates: that process's stacks beyond the quota are counted under
#    "no stack" and said (lower bound, stack_quota), its total stays exact,
#    the stacks it has are exact, and a neighbour's stacks are untouched.
. "$(dirname "$0")/lib.sh"

N=20000
# jq: the leaf's malloc rows (malloc's own brk/mmap calls are rows of their
# own), and the ones whose bytes do not match their frames
LEAF='[.stacks[] | select(.kind == "malloc" and any(.frames[]; .func == "stk_leaf"))]'
WRONG="$LEAF | map(select(.inuse_bytes != 16 * (1 + ([.frames[] | select(.func == \"stk_b\")] | length)))) | length"
NOSTACK='[.stacks[] | select((.frames | length) == 0) | .inuse_bytes] | add // 0'

start_target "$O/tests/targets/manystacks" "$TMP/m.out" || { fail "manystacks did not start"; exit 1; }
start_memsight "$TMP/m.json" "$TMP/m.err" top -p "$TPID" -d 0 -n 0 --json --unwind fp ||
	{ fail "memsight did not attach"; exit 1; }
kill -USR1 "$TPID"
wait_for "$TMP/m.out" '^done' 60 || fail "manystacks did not finish"
kill -INT "$MPID"
wait "$MPID"; rc=$?
check "top: exit status" "$rc" 0
J=$TMP/m.json
check "top: $N allocations in use" "$(jq .tracked.inuse_count "$J")" $N
check "top: $N stacks, one allocation each" "$(jq -c "$LEAF | [length, (map(.alloc_count) | unique)]" "$J")" "[$N,[1]]"
check "top: every stack holds the bytes its frames say" "$(jq "$WRONG" "$J")" 0
check "top: stacks whole (leaf to main)" \
	"$(jq "$LEAF | map(select(any(.frames[]; .func == \"main\") | not)) | length" "$J")" 0
check "top: nothing under no stack" "$(jq "$NOSTACK" "$J")" 0
check "top: no stack lost [errors, collisions, table full, quota]" \
	"$(jq -c '.events | [.stack_errors, .stack_collisions, .stack_table_full, .stack_quota]' "$J")" "[0,0,0,0]"
check "top: figures exact (not a lower bound)" "$(jq .events.lower_bound "$J")" false
kill -TERM "$TPID"; wait "$TPID" 2>/dev/null

# memsightd: a per-process quota, and reads while the stacks are stored
Q=4096
cat > "$TMP/memsightd.conf" <<CONF
[daemon]
snapshot_interval_s = 1
stacks_per_process = $Q
[metrics]
listen = off
CONF
# frame-pointer stacks: the kernel's table is what is tested (Debian's libc
# has no frame pointers, so auto would copy stacks for DWARF unwinding)
start_daemon --config "$TMP/memsightd.conf" --unwind fp || { fail "daemon did not start"; exit 1; }
start_target "$O/tests/targets/leaky" "$TMP/l.out"; LPID=$TPID
# 5 ms every 100 allocations: a second or more of storing to read during
start_target "$O/tests/targets/manystacks" "$TMP/m2.out" 5000; BPID=$TPID
for p in $LPID $BPID; do
	check "daemon: attach $p" "$("$MS" attach "$p" > /dev/null; echo $?)" 0
done
kill -USR1 "$BPID" "$LPID"
# read stacks while they are being stored (the kernel's map lent a stack's
# slot to another while user space copied it)
reads=0
while ! grep -q '^done' "$TMP/m2.out"; do
	"$MS" dump "$BPID" --format json -o "$TMP/read.json" 2>/dev/null && reads=$((reads + 1))
	[ $reads -gt 200 ] && break
done
wait_for "$TMP/m2.out" '^done' 60 || fail "daemon: manystacks did not finish"
wait_for "$TMP/l.out" '^done' 30 || fail "daemon: leaky did not finish"
check "daemon: read while storing ($reads reads)" "$([ $reads -ge 1 ] && echo yes)" yes
ms_json "$BPID"; J=$TMP/$BPID.json
check "daemon: $N allocations in use (total exact)" "$(jq .tracked.inuse_count "$J")" $N
stored=$(jq "$LEAF | length" "$J")
check "daemon: the quota's stacks stored ($stored, at most $Q)" \
	"$([ "$stored" -gt $((Q / 2)) ] && [ "$stored" -le $Q ] && echo yes)" yes
check "daemon: stored stacks exact" "$(jq -c "$LEAF | map(.alloc_count) | unique" "$J")" "[1]"
check "daemon: every stored stack holds the bytes its frames say" "$(jq "$WRONG" "$J")" 0
check "daemon: the rest under no stack, exactly" \
	"$(jq "($NOSTACK) + ($LEAF | map(.inuse_bytes) | add)" "$J")" "$(jq .tracked.inuse_bytes "$J")"
check "daemon: quota said, figures are lower bounds" \
	"$(jq -c '[.events.stack_quota > 0, .events.lower_bound]' "$J")" "[true,true]"
ms_json "$LPID"; J=$TMP/$LPID.json
check "daemon: neighbour's leak_a exact" "$(stack_field "$J" leak_a inuse_bytes)" 4096000
check "daemon: neighbour's leak_b exact" "$(stack_field "$J" leak_b inuse_bytes)" 50000
check "daemon: neighbour's total exact" "$(jq .tracked.inuse_bytes "$J")" 4211536
check "daemon: nothing of the neighbour under no stack" "$(jq "$NOSTACK" "$J")" 0
# detach: the process's stacks go with it (malloc's and its brk/mmap calls')
own=$(jq '[.stacks[] | select((.frames | length) > 0) | .stack_id] | unique | length' "$TMP/$BPID.json")
before=$("$MS" stats -j | jq .maps.stacks)
check "daemon: detach manystacks" "$("$MS" detach "$BPID" > /dev/null; echo $?)" 0
after=$("$MS" stats -j | jq .maps.stacks)
check "daemon: its $own stacks freed at detach ($before -> $after)" "$((before - after))" "$own"
kill -TERM "$DPID"
wait "$DPID"
check "daemon: SIGTERM leaves no program" "$(progs_left)" 0
