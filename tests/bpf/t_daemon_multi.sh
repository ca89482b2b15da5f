#!/bin/bash
# Claim: one memsightd watching 3 processes attached at different times by
# the CLI reports each one's exact in-use bytes per stack; detaching one
# leaves the others' data intact. Run in both probe scopes.
. "$(dirname "$0")/lib.sh"

for scope in process system; do
	start_daemon --scope "$scope" --metrics off || { fail "$scope: daemon did not start"; continue; }
	pids=()
	for i in 1 2 3; do
		start_target "$O/tests/targets/leaky" "$TMP/$scope-$i.out"
		pids+=("$TPID")
		check "$scope: attach target $i" "$("$MS" attach "$TPID" > /dev/null; echo $?)" 0
		# each leaks after its own attach, so attach times differ
		kill -USR1 "$TPID"
		wait_for "$TMP/$scope-$i.out" '^done' 30
	done
	for i in 0 1 2; do
		p=${pids[$i]}
		ms_json "$p"
		check "$scope: target $((i + 1)) leak_a bytes" "$(stack_field "$TMP/$p.json" leak_a inuse_bytes)" 4096000
		check "$scope: target $((i + 1)) leak_b bytes" "$(stack_field "$TMP/$p.json" leak_b inuse_bytes)" 50000
		check "$scope: target $((i + 1)) total in use" "$(jq .tracked.inuse_bytes "$TMP/$p.json")" 4211536
	done
	check "$scope: ps lists 3 processes" "$("$MS" ps -j | jq '.processes | length')" 3
	check "$scope: detach target 2" "$("$MS" detach "${pids[1]}" > /dev/null; echo $?)" 0
	check "$scope: ps lists 2 processes" "$("$MS" ps -j | jq '.processes | length')" 2
	for i in 0 2; do
		p=${pids[$i]}
		ms_json "$p"
		check "$scope: target $((i + 1)) intact after detach of 2" \
			"$(jq .tracked.inuse_bytes "$TMP/$p.json")" 4211536
	done
	# detached: not the daemon's any more (a dump of it is no longer served
	# from the daemon's data: the CLI observes it afresh, since now), and
	# its data is gone from the maps
	"$MS" dump "${pids[1]}" -d 1 --format json -o "$TMP/detached.json" 2> "$TMP/detached.err"
	check_cmd "$scope: dump of the detached target: the daemon no longer watches it" \
		grep -q "PID ${pids[1]} is not watched by memsightd" "$TMP/detached.err"
	check "$scope: dump of the detached target: none of the daemon's bytes" \
		"$(jq '[.tracked.inuse_bytes, .tracked.since_attach_only]' -c "$TMP/detached.json")" '[0,true]'
	check "$scope: detached target's data freed" \
		"$("$MS" stats -j | jq '.maps.aggregates > 0 and .maps.live == 2 * 1501')" true
	# a second round in target 1 adds exactly another 4096000 to leak_a
	kill -USR1 "${pids[0]}"
	wait_for_n "$TMP/$scope-1.out" '^done' 2 30
	ms_json "${pids[0]}"
	check "$scope: target 1 second round counted" \
		"$(stack_field "$TMP/${pids[0]}.json" leak_a inuse_bytes)" 8192000
	kill -TERM "$DPID"
	wait "$DPID"; rc=$?
	check "$scope: SIGTERM exit status" "$rc" 0
	check "$scope: SIGTERM leaves no program" "$(progs_left)" 0
	check "$scope: socket removed on exit" "$([ -e "$MEMSIGHT_SOCKET" ] && echo present || echo gone)" gone
	for p in "${pids[@]}"; do
		kill -USR2 "$p"
	done
	for i in 1 2 3; do
		wait_for "$TMP/$scope-$i.out" '^(verified|corrupted)' 10
		check "$scope: target $i intact after daemon exit" "$(tail -1 "$TMP/$scope-$i.out")" verified
	done
	kill "${pids[@]}" 2>/dev/null
done
