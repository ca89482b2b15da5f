#!/bin/bash
# Claims (issue "Full stacks without frame pointers"):
#  - the core slice's target built -O2 -fomit-frame-pointer (leaky-nofp):
#    frame pointers alone lose its callers; with DWARF unwinding every stack
#    reaches main, the frames down to main are exactly those of the
#    frame-pointer build, and the figures stay exact (4,211,536 B in 1501
#    allocations, every one of the 9523 stacks copied, none lost);
#  - allocations made inside libc show their callers: strdup's under churn,
#    and glibc's FILE and stdio buffer (deep/open_log) through fwrite, with
#    the functions inlined there;
#  - mixed stacks: a target with frame pointers but no CFI at all unwinds
#    through libc by CFI and through itself by frame pointers;
#  - thread stacks (mappings of their own) are copied whole even while other
#    threads map memory (the stack's mapping found without the mm lock);
#  - auto mode picks DWARF by itself for a process whose modules lack frame
#    pointers, sampled or not, and says why; memsightd does too;
#  - --dwarf-rate bounds the copies per second: past it, frame-pointer
#    stacks (shorter, counted, said), the figures still exact.
. "$(dirname "$0")/lib.sh"

# frames of the stack whose innermost frame is FUNC, down to main: "a<b<main"
chain() {
	jq -r --arg f "$2" --arg k "${3:-}" '[.stacks[] | select(.kind != "fault" and
		.frames[0].func == $f and ($k == "" or .kind == $k))][0].frames // [] |
		(map(.func) | index("main")) as $m | if $m == null then "no-main"
		else .[0:$m + 1] | map(.func) | join("<") end' "$1"
}

run_top() {	# BIN NAME ARGS...: memsight top on a fresh leaky, JSON in $TMP/NAME.json
	local bin=$1 name=$2; shift 2
	start_target "$bin" "$TMP/$name.out" || { fail "$name: target did not start"; return 1; }
	start_memsight "$TMP/$name.json" "$TMP/$name.err" top -p "$TPID" -d 0 -n 0 --json "$@" ||
		{ fail "$name: memsight did not attach"; cat "$TMP/$name.err"; return 1; }
	kill -USR1 "$TPID"
	wait_for "$TMP/$name.out" '^done' 60 || fail "$name: target did not finish"
	sleep 0.5
	kill -INT "$MPID"; wait "$MPID"
	kill "$TPID"
	jq -e . "$TMP/$name.json" > /dev/null || { fail "$name: no JSON"; cat "$TMP/$name.err"; return 1; }
}

# the reference: the frame-pointer build, walked by frame pointers
run_top "$O/tests/targets/leaky" fp-ref --unwind fp
# without frame pointers the kernel's walk cannot get past the first frame
run_top "$O/tests/targets/leaky-nofp" nofp-fp --unwind fp
check "no frame pointers, fp walk: leak_a never reaches main" "$(chain "$TMP/nofp-fp.json" leak_a)" no-main

run_top "$O/tests/targets/leaky-nofp" nofp-dwarf --unwind dwarf
J=$TMP/nofp-dwarf.json
check "dwarf: says how it unwinds" "$(jq -r .tracked.unwind "$J")" dwarf
grep -q 'unwound with DWARF (--unwind dwarf)' "$TMP/nofp-dwarf.err" &&
	pass "dwarf: attach message names the mode" || fail "dwarf: no attach message"
for f in leak_a:malloc leak_b:calloc leak_c:realloc churn:malloc churn:posix_memalign churn:mmap; do
	fn=${f%:*} k=${f#*:}
	ref=$(chain "$TMP/fp-ref.json" "$fn" "$k")
	got=$(chain "$J" "$fn" "$k")
	check "dwarf: $fn ($k) stack down to main as in the frame-pointer build" "$got" "$ref"
done
check "dwarf: reference stacks reach main" "$(chain "$TMP/fp-ref.json" leak_a)" "leak_a<main"
check "dwarf: total in-use bytes exact" "$(jq .tracked.inuse_bytes "$J")" 4211536
check "dwarf: total in-use allocations exact" "$(jq .tracked.inuse_count "$J")" 1501
check "dwarf: leak_a 4096000 B in 1000" \
	"$(stack_field "$J" leak_a inuse_bytes)/$(stack_field "$J" leak_a inuse_count)" 4096000/1000
check "dwarf: leak_b 50000 B" "$(stack_field "$J" leak_b inuse_bytes)" 50000
check "dwarf: leak_c 65536 B after 13 calls" \
	"$(stack_field "$J" leak_c inuse_bytes)/$(stack_field "$J" leak_c alloc_count)" 65536/13
check "dwarf: churn's 2000 posix_memalign calls folded into one stack" \
	"$(jq '[.stacks[] | select(.kind == "posix_memalign")] | length' "$J")/$(jq '[.stacks[] | select(.kind == "posix_memalign") | .alloc_count] | add' "$J")" 1/2000
allocs=$(jq .events.allocs "$J")
check "dwarf: every recorded allocation had its stack copied" "$(jq .events.dwarf_stacks "$J")" "$allocs"
check "dwarf: no copied stack lost" "$(jq .events.dwarf_stacks_lost "$J")" 0
check "dwarf: 9523 allocations recorded, as with frame pointers" "$allocs/$(jq .events.allocs "$TMP/fp-ref.json")" 9523/9523
check "dwarf: no events lost" "$(jq .events.lower_bound "$J")" false
# strdup allocates inside libc: only CFI gets from it back to its caller
check "dwarf: libc's strdup names its caller" "$(chain "$J" __strdup)" "__strdup<churn<main"
check "fp: libc's strdup loses its caller" \
	"$(chain "$TMP/fp-ref.json" __strdup | grep -c '__strdup<churn')" 0

# mixed: frame pointers and no CFI in the executable, CFI and no frame pointers in libc
run_top "$O/tests/targets/leaky-nocfi" nocfi --unwind dwarf
check "mixed: leak_a via frame pointers" "$(chain "$TMP/nocfi.json" leak_a)" "leak_a<main"
check "mixed: strdup via CFI, then frame pointers" "$(chain "$TMP/nocfi.json" __strdup)" "__strdup<churn<main"
check "mixed: exact" "$(jq .tracked.inuse_bytes "$TMP/nocfi.json")" 4211536

# stdio: glibc allocates the FILE in fopen and the buffer at the first write
run_top "$O/tests/targets/deep" deep --unwind dwarf
D=$TMP/deep.json
check "stdio: the FILE's stack" "$(chain "$D" __fopen_internal)" "__fopen_internal<open_log<main"
check "stdio: the buffer's stack names fwrite's caller" \
	"$(chain "$D" _IO_file_doallocate | sed 's/<.*<\(_IO_fwrite\)</<..<\1</')" "_IO_file_doallocate<..<_IO_fwrite<open_log<main"
check "stdio: FILE + buffer in use" \
	"$(jq '[.stacks[] | select(.kind != "fault" and any(.frames[]; .func == "open_log")) | .inuse_bytes] | add' "$D")" 4568
check "inline: make_node is a frame of its own, inlined into build_list" \
	"$(jq -r '[.stacks[] | select(.frames[0].func == "make_node")][0] | "\(.frames[0].inlined) \(.frames[1].func) \(.inuse_bytes)"' "$D")" "true build_list 25600"
check "inline: its line is in make_node, the caller's at the call" \
	"$(jq -r '[.stacks[] | select(.frames[0].func == "make_node")][0].frames[0:2] | map("\(.file | split("/") | last):\(.line)") | join(" ")' "$D")" \
	"deep.c:$(grep -n 'void \*p = malloc(n);' tests/targets/deep.c | cut -d: -f1) deep.c:$(grep -n 'nodes\[i\] = make_node' tests/targets/deep.c | cut -d: -f1)"

# threads: their stacks are mappings of their own, found while other threads map memory
run_top "$O/tests/targets/threads-nofp" threads --unwind dwarf
T=$TMP/threads.json
check "threads: 4 x 100 x 1000 B in use under thread_alloc" "$(stack_field "$T" thread_alloc inuse_bytes)" 400000
check "threads: every one with its whole stack" \
	"$(jq '[.stacks[] | select(.frames[0].func == "thread_alloc") | select([.frames[].func] | index("start_thread")) | .alloc_count] | add' "$T")" 400
check "threads: worker's stack down to start_thread" \
	"$(jq -r '[.stacks[] | select(.frames[0].func == "thread_alloc")][0].frames[0:3] | map(.func) | join("<")' "$T")" "thread_alloc<worker<start_thread"
check "threads: no copied stack lost" "$(jq .events.dwarf_stacks_lost "$T")" 0

# auto: sampled allocations of a process without frame pointers get DWARF by themselves
run_top "$O/tests/targets/leaky-nofp" auto --sample-bytes 65536
A=$TMP/auto.json
check "auto+sampled: DWARF chosen" "$(jq -r .tracked.unwind "$A")" dwarf
check "auto+sampled: the reason names a module without frame pointers" \
	"$(jq -r .tracked.unwind_reason "$A" | grep -cE 'has no frame pointers$')" 1
check "auto+sampled: leak_a reaches main" "$(chain "$A" leak_a)" "leak_a<main"
check "auto+sampled: only samples copied" \
	"$(jq '.events.dwarf_stacks == .events.allocs and .events.allocs < 9523' "$A")" true
run_top "$O/tests/targets/leaky-nofp" auto-full
A=$TMP/auto-full.json
check "auto, full tracking: DWARF chosen, with its reason" \
	"$(jq -r '"\(.tracked.unwind) \(.tracked.unwind_reason | test("has no frame pointers$"))"' "$A")" "dwarf true"
check "auto, full tracking: leak_a reaches main" \
	"$(jq '[.stacks[] | select(.kind == "malloc" and .frames[0].func == "leak_a") |
		[.frames[].func] | .[0:(index("main") // -1) + 1] == ["leak_a", "main"]] | any' "$A")" true
# every stack copied, or counted as lost when the ring was full (a slow
# machine: the 6.1 guest under emulation drains it late); figures exact
check "auto, full tracking: exact, every stack copied or counted lost" \
	"$(jq -c '[.tracked.inuse_bytes, .tracked.inuse_count, .events.dwarf_stacks + .events.dwarf_stacks_lost, .events.dwarf_stacks_over_rate]' "$A")" \
	"[4211536,1501,9523,0]"
# the rate bound: 9523 allocations in well under 2 s, 500 copies a second
run_top "$O/tests/targets/leaky-nofp" rate --dwarf-rate 500
A=$TMP/rate.json
copied=$(jq .events.dwarf_stacks "$A")
check "--dwarf-rate 500: at most 500 copies a second ($copied copied)" \
	"$(awk -v c="$copied" -v d="$(jq .duration_s "$A")" 'BEGIN { print (c >= 500 && c <= 500 * (int(d) + 2)) ? "yes" : "no" }')" yes
check "--dwarf-rate 500: the others counted" \
	"$(jq '.events.dwarf_stacks + .events.dwarf_stacks_lost + .events.dwarf_stacks_over_rate' "$A")" 9523
check "--dwarf-rate 500: figures exact" "$(jq -c '[.tracked.inuse_bytes, .tracked.inuse_count]' "$A")" "[4211536,1501]"
check "--dwarf-rate 500: leak_a's bytes exact over its rows" \
	"$(jq '[.stacks[] | select(.kind == "malloc" and .frames[0].func == "leak_a") | .inuse_bytes] | add' "$A")" 4096000
out=$("$MS" top -p 1 -d 1 --dwarf-rate x 2>&1); rc=$?
check "--dwarf-rate x: refused, saying why" "$rc $(grep -c 'invalid --dwarf-rate' <<< "$out")" "2 1"

# memsightd: the same choice, copied stacks drained by its event loop
start_daemon --sample-bytes 65536 --metrics off || { fail "daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky-nofp" "$TMP/d.out"
"$MS" attach "$TPID" > /dev/null || fail "daemon: attach failed"
kill -USR1 "$TPID"
wait_for "$TMP/d.out" '^done' 60
sleep 1.5
"$MS" dump "$TPID" --format json -o "$TMP/d.json" || fail "daemon: dump failed"
check "daemon: DWARF chosen" "$(jq -r .tracked.unwind "$TMP/d.json")" dwarf
check "daemon: leak_a reaches main" "$(chain "$TMP/d.json" leak_a)" "leak_a<main"
check "daemon: stats count copied stacks" "$("$MS" stats -j | jq '.dwarf_stacks > 0 and .dwarf_stacks_lost == 0')" true
kill -TERM "$DPID"; wait "$DPID"

# reads while samples are made lose none: a dump running while an allocation's
# program has made its sample's (empty) aggregate and not yet counted it must
# keep that aggregate. It was deleted as "never counted" when its stack was
# bound during the same read (1 of 1000 leak_a blocks gone, in CI and here
# in 2 of 4 runs of 20 rounds)
start_daemon --metrics off || { fail "reads during samples: daemon did not start"; exit 0; }
start_target "$O/tests/targets/leaky" "$TMP/race.out"
"$MS" attach "$TPID" > /dev/null || fail "reads during samples: attach failed"
( while :; do "$MS" dump "$TPID" --format json -o /dev/null 2> /dev/null; done ) &
reader=$!
for ((r = 1; r <= 30; r++)); do
	kill -USR1 "$TPID"
	wait_for_n "$TMP/race.out" '^done' "$r" 60 || break
done
kill "$reader"; wait "$reader" 2> /dev/null
reads=$("$MS" stats -j | jq .requests)
"$MS" dump "$TPID" --format json -o "$TMP/race.json" || fail "reads during samples: dump failed"
check "reads during samples: DWARF samples" "$(jq -r .tracked.unwind "$TMP/race.json")" dwarf
# A stack dropped (counted: the kernel's ring full, or the unwinder's queue at
# its cap, as in the 6.1 guest, whose emulated unwinding falls behind) leaves
# its bytes exact under a shorter stack: leak_a's bytes are then short by at
# most one 4096-byte block per drop, never over. Exact when nothing dropped.
drops=$(jq '.events | .dwarf_stacks_lost + .dwarf_stacks_dropped_unwinding' "$TMP/race.json")
echo "  (reads during samples: copied stacks $(jq -c '.events | [.dwarf_stacks, .dwarf_stacks_lost, .dwarf_stacks_lost_ring_full, .dwarf_stacks_over_rate, .dwarf_stacks_dropped_unwinding]' "$TMP/race.json"): copied, lost, ring full, over rate, dropped unwinding)"
check "reads during samples: $reads reads during 30 rounds, the total exact" \
	"$(jq -c '[.tracked.inuse_bytes, .events.lower_bound]' "$TMP/race.json")" \
	"[$((30 * 4211536 - 29 * 65536)),false]"
leak_a=$(jq --arg f leak_a '[.stacks[] | select(any(.frames[]; .func == $f)) | .inuse_bytes] | add' "$TMP/race.json")
if [ "${drops:-x}" = 0 ]; then
	check "reads during samples: leak_a exact (no stack dropped)" "$leak_a" $((30 * 4096000))
else
	check "reads during samples: leak_a within its $drops counted drops" \
		"$(awk -v b="$leak_a" -v d="$drops" -v x=$((30 * 4096000)) 'BEGIN { print (b <= x && b + 4096 * d >= x) ? "yes" : "no (" b ")" }')" yes
fi
