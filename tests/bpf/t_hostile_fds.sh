#!/bin/bash
# Claims: memsightd started with a soft open-files limit of 1024 takes its
# hard limit; when 300 watched processes exit at once, the links they held
# (file descriptors) are all closed within 10 s (one closing thread managed
# ~40 a second: 600 links took 15 s), and the daemon's descriptors stay well
# below the 1024 it was given. Prints the figures.
. "$(dirname "$0")/lib.sh"

# two links a process with uprobe_multi; per-function links take ~20: fewer processes
N=300
[ "$(kfeature uprobe_multi)" = yes ] || N=25
ulimit -Sn 1024 && ulimit -Hn 8192 || { fail "cannot set the open files limits"; exit 0; }
printf '[daemon]\nmax_processes = 400\n' > "$TMP/memsightd.conf"
start_daemon --config "$TMP/memsightd.conf" --metrics off || { fail "daemon did not start"; exit 0; }
stats() { "$MS" stats -j; }
check "the daemon took its hard open files limit" "$(stats | jq .fds.soft_limit)" 8192

# a program of our own name, so that no other process on the machine matches
cp /bin/sleep "$TMP/msfdburst"
"$MS" attach --comm msfdburst > /dev/null
burst=()
for ((i = 0; i < N; i++)); do
	"$TMP/msfdburst" 600 &
	burst+=($!)
done
PIDS_TO_KILL+=("${burst[@]}")
nwatched() { "$MS" ps -j | jq '.processes | length'; }
maxfd=0
note_fds() {
	local f
	f=$(stats | jq .fds.open)
	((f > maxfd)) && maxfd=$f
}
ta=$(date +%s%N)
for ((i = 0; i < 120; i++)); do
	[ "$(nwatched)" -ge "$N" ] && break
	sleep 0.5
done
ta=$((($(date +%s%N) - ta) / 1000000))
w=$(nwatched)
check "all $N watched" "$w" "$N"
note_fds
held=$maxfd

# all exit at once; their links go to the closing threads
t0=$(date +%s%N)
kill "${burst[@]}"
wait "${burst[@]}" 2>/dev/null
# ms since the kill when no process is watched any more (gone_ms) and when
# every link is closed too (closed_ms); "never" after 30 s
gone_ms=never closed_ms=never
closed_in() {
	local s
	for ((i = 0; i < 300; i++)); do
		note_fds
		s=$(stats)
		if [ "$gone_ms" = never ] && [ "$(echo "$s" | jq .watched)" -eq 0 ]; then
			gone_ms=$((($(date +%s%N) - t0) / 1000000))
		fi
		if [ "$gone_ms" != never ] && [ "$(echo "$s" | jq .fds.links_closing)" -eq 0 ]; then
			closed_ms=$((($(date +%s%N) - t0) / 1000000))
			return
		fi
		sleep 0.1
	done
}
closed_in
s=$(stats)
echo "figures: $w watched (in $ta ms), daemon fds at most $maxfd (with all watched: $held), links" \
     "closing at most $(echo "$s" | jq .fds.links_closing_max), closed" \
     "$(echo "$s" | jq .fds.links_closed) by $(echo "$s" | jq .fds.link_closers) threads;" \
     "all unwatched ${gone_ms} ms and all closed ${closed_ms} ms after the kill; fds now $(echo "$s" | jq .fds.open)"
check "links of $N exited processes closed within 10 s" \
	"$([ "$closed_ms" != never ] && [ "$closed_ms" -lt 10000 ] && echo yes)" yes
check "daemon fds stayed below 3/4 of the 1024 it was given" \
	"$([ "$maxfd" -lt 768 ] && echo yes)" yes
check "every link was closed" "$(echo "$s" | jq '.fds.links_closed >= 2 * '"$N")" true
