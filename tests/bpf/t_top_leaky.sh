#!/bin/bash
# Claim: attached to tests/targets/leaky (started before memsight), `memsight
# top` reports exactly the bytes and counts each function still holds:
#   leak_a 1000 x 4096 B (malloc), leak_b 500 x 100 B (calloc),
#   leak_c one 65536 B buffer grown by 13 reallocs, churn() nothing,
# total exactly 4,211,536 B in 1501 allocations; and after memsight exits the
# target is unaffected and no program of ours stays loaded.
. "$(dirname "$0")/lib.sh"

# leaky+no-sessions: uprobe_multi entry and return links, as kernels 6.6-6.11 get
for variant in leaky leaky-static leaky+legacy-links leaky+no-sessions; do
	bin=$O/tests/targets/${variant%+*}
	extra=()
	[[ $variant == *+legacy-links ]] && extra=(--legacy-links)
	if [[ $variant == *+no-sessions ]]; then export MEMSIGHT_NO_SESSION=1; else unset MEMSIGHT_NO_SESSION; fi
	start_target "$bin" "$TMP/$variant.out" || { fail "$variant did not start"; continue; }
	start_memsight "$TMP/$variant.json" "$TMP/$variant.err" top -p "$TPID" -d 0 -n 0 --json "${extra[@]}" ||
		{ fail "$variant: memsight did not attach"; continue; }
	[ ${#extra[@]} -gt 0 ] && { grep -q 'per-function links' "$TMP/$variant.err" &&
		pass "$variant: per-function links in use" || fail "$variant: not per-function links"; }
	# as one uprobe session where the kernel has them (6.12+), else entry and
	# return links: uprobe_multi (6.6+) or one perf link per function
	case $variant in
	leaky|leaky-static|*+no-sessions)
		check "$variant: allocating functions linked as the kernel allows ($(link_kind))" \
			"$(grep -c "($(link_kind))\$" "$TMP/$variant.err")" 1 ;;
	esac
	grep -q 'allocations made before now are not counted' "$TMP/$variant.err" &&
		pass "$variant: says pre-attach allocations are not counted" ||
		fail "$variant: no pre-attach warning"
	kill -USR1 "$TPID"
	wait_for "$TMP/$variant.out" '^done' 30 || fail "$variant: target did not finish its work"
	kill -INT "$MPID"
	wait "$MPID"; rc=$?
	check "$variant: memsight exit status" "$rc" 0
	J=$TMP/$variant.json
	if ! jq -e . "$J" >/dev/null; then
		fail "$variant: output is not JSON"; cat "$TMP/$variant.err"; continue
	fi
	check "$variant: total in-use bytes" "$(jq .tracked.inuse_bytes "$J")" 4211536
	check "$variant: total in-use allocations" "$(jq .tracked.inuse_count "$J")" 1501
	# what the target's malloc_usable_size() says its kept buffers cost, exactly
	check "$variant: in use with glibc's rounding" "$(jq .tracked.inuse_usable_bytes "$J")" \
		"$(sed -n 's/^usable //p' "$TMP/$variant.out")"
	check "$variant: leak_a usable in use" "$(stack_field "$J" leak_a inuse_usable_bytes)" \
		$((1000 * 4104))
	check "$variant: churn holds nothing usable" "$(stack_field "$J" churn inuse_usable_bytes)" 0
	check "$variant: leak_a in-use bytes" "$(stack_field "$J" leak_a inuse_bytes)" 4096000
	check "$variant: leak_a in-use count" "$(stack_field "$J" leak_a inuse_count)" 1000
	check "$variant: leak_a via malloc" \
		"$(jq -r '[.stacks[] | select(.frames[0].func == "leak_a" and .kind != "fault") | .kind] | unique | join(",")' "$J")" malloc
	check "$variant: leak_a stack reaches main" \
		"$(jq '[.stacks[] | select(.frames[0].func == "leak_a") | any(.frames[]; .func == "main")] | all' "$J")" true
	check "$variant: leak_b in-use bytes" "$(stack_field "$J" leak_b inuse_bytes)" 50000
	check "$variant: leak_b in-use count" "$(stack_field "$J" leak_b inuse_count)" 500
	check "$variant: leak_b via calloc" \
		"$(jq -r '[.stacks[] | select(.frames[0].func == "leak_b" and .kind != "fault") | .kind] | unique | join(",")' "$J")" calloc
	check "$variant: leak_c in-use bytes" "$(stack_field "$J" leak_c inuse_bytes)" 65536
	check "$variant: leak_c in-use count" "$(stack_field "$J" leak_c inuse_count)" 1
	check "$variant: leak_c realloc calls" "$(stack_field "$J" leak_c alloc_count)" 13
	check "$variant: churn holds nothing" "$(stack_field "$J" churn inuse_bytes)" 0
	check "$variant: churn posix_memalign calls" \
		"$(jq '[.stacks[] | select(.kind == "posix_memalign" and any(.frames[]; .func == "churn")) | .alloc_count] | add' "$J")" 2000
	check "$variant: churn mmap calls" \
		"$(jq '[.stacks[] | select(.kind == "mmap" and any(.frames[]; .func == "churn")) | .alloc_count] | add' "$J")" 10
	check "$variant: no events lost" "$(jq .events.lower_bound "$J")" false
	check "$variant: no program left loaded" "$(progs_left)" 0
	kill -USR2 "$TPID"
	wait_for "$TMP/$variant.out" '^(verified|corrupted)' 10
	check "$variant: target memory intact after detach" "$(tail -1 "$TMP/$variant.out")" verified
	check_cmd "$variant: target still running" kill -0 "$TPID"
	kill "$TPID"
done

# The text view names the functions with offsets and modules.
start_target "$O/tests/targets/leaky" "$TMP/text.out"
# (until the target is done, however slow the machine: a fixed -d cut it short
# in a loaded guest, before leak_b and leak_c)
start_memsight "$TMP/text.txt" "$TMP/text.err" top -p "$TPID" -d 0 -n 3
kill -USR1 "$TPID"
wait_for "$TMP/text.out" '^done' 30 || fail "text: target did not finish its work"
kill -INT "$MPID"
wait "$MPID"
check_cmd "text: leak_a first, with offset and module" \
	grep -qE '^#1 in use 4096000 B \(3.91 MiB\) in 1000 allocs' "$TMP/text.txt"
check_cmd "text: frame shows leak_a+0x.. in leaky" grep -qE 'leak_a\+0x[0-9a-f]+ +leaky' "$TMP/text.txt"
check_cmd "text: header has tracked in-use total" grep -q 'tracked heap in use: 4.02 MiB in 1501 allocations' "$TMP/text.txt"
check_cmd "text: header has the in-use total with glibc's rounding" \
	grep -qE "^with the allocator's rounding: in use 4\.0[0-9] MiB \(allocated [0-9.]+ [KMG]iB\)$" "$TMP/text.txt"
check_cmd "text: header has RSS and threads" grep -qE '^RSS .* \(anon .*, file .*, shmem .*\), peak .*, threads 1$' "$TMP/text.txt"
