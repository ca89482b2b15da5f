#!/bin/bash
# Claim: when a running program's file is replaced on disk (a deploy) or
# deleted, memsight attaches to and symbolises the image actually mapped
# (through /proc/PID/map_files), not whatever file now has that name.
. "$(dirname "$0")/lib.sh"

for how in replaced deleted; do
	rm -f "$TMP/app"; cp "$O/tests/targets/leaky-static" "$TMP/app"
	start_target "$TMP/app" "$TMP/$how.out"
	rm -f "$TMP/app"
	[ "$how" = replaced ] && head -c 100000 /dev/urandom > "$TMP/app"
	start_memsight "$TMP/$how.json" "$TMP/$how.err" top -p "$TPID" -d 2 --json
	kill -USR1 "$TPID"
	wait "$MPID"; rc=$?
	check "$how binary: exit status" "$rc" 0
	check "$how binary: leak_a found and exact" "$(stack_field "$TMP/$how.json" leak_a inuse_bytes)" 4096000
	kill "$TPID"
done
