#!/bin/bash
# Claim (issue "Hostile conditions"): C++ exceptions and longjmp through
# frames that allocate leave the figures exact: 100 x 1000 B kept (through
# the demangled `operator new(unsigned long)`), the exceptions' and the
# jumping frame's allocations all freed, the target's own work unchanged.
# Debian's libstdc++ has no frame pointers, so a frame-pointer walk from
# operator new would skip its caller leaky::keep(int) and resume at main: by
# default memsight unwinds such a process with DWARF, and keep(int) is there.
. "$(dirname "$0")/lib.sh"

start_target "$O/tests/targets/cxxjump" "$TMP/t.out"
start_memsight "$TMP/t.json" "$TMP/t.err" top -p "$TPID" -d 0 -n 0 --json
kill -USR1 "$TPID"
wait_for "$TMP/t.out" '^done' 30
kill -INT "$MPID"; wait "$MPID"
J=$TMP/t.json
check "target: 1000 caught, 1000 jumped" "$(tail -1 "$TMP/t.out")" "done 1000 1000"
check "kept through operator new(unsigned long) from leaky::keep(int): 100000 B in 100" \
	"$(jq -r '[.stacks[] | select(.inuse_bytes > 0) | "\(.frames[0].func) < \(.frames[1].func): \(.inuse_bytes) \(.inuse_count)"] | join(",")' "$J")" \
	"operator new(unsigned long) < leaky::keep(int): 100000 100"
check "nothing else in use" "$(jq .tracked.inuse_bytes "$J")" 100000
check "the thrower's allocations were all freed" \
	"$(jq '[.stacks[] | select(.kind != "fault" and any(.frames[]; (.func // "") | test("thrower"))) | .inuse_bytes] | add // 0' "$J")" 0
check "the jumper's 1000 allocations seen and freed" \
	"$(jq -r '[.stacks[] | select(.kind == "malloc" and any(.frames[]; (.func // "") | test("jumper"))) | .alloc_count, .inuse_count] | "\(.[0]) \(.[1])"' "$J")" "1000 0"
check "no event lost" "$(jq .events.lower_bound "$J")" false
